import { Migration } from "@mikro-orm/migrations";

/**
 * Exact attribution and payments held for confirmation: the provider's own identity of each VA, the
 * body hash of every inbound SNAP X-EXTERNAL-ID, and the held payments.
 */
export class PaymentBelief extends Migration {
  override up(): void {
    this.addSql('alter table "virtual_account" add column "provider_va_id" varchar(128) null;');
    this.addSql(
      'create index "virtual_account_provider_id_idx" on "virtual_account" ("provider", "provider_account", "provider_va_id");',
    );
    this.addSql('alter table "snap_external_id" add column "body_hash" varchar(64) null;');
    this.addSql('alter table "snap_external_id" alter column "partner_id" type varchar(72) using ("partner_id"::varchar(72));');
    this.addSql(
      'create table "held_payment" ("id" varchar(40) not null, "provider" varchar(32) not null, "provider_account" varchar(64) not null, "provider_payment_ref" varchar(128) not null, "provider_va_id" varchar(128) null, "va_number" varchar(32) not null, "amount" bigint not null, "fee" bigint null, "paid_at" timestamptz not null, "raw_payload" text not null, "reason" varchar(16) not null, "detail" varchar(255) not null, "state" varchar(16) not null, "attempts" int not null, "next_attempt_at" timestamptz not null, "received_at" timestamptz not null, "resolved_at" timestamptz null, "virtual_account_id" varchar(40) null, constraint "held_payment_pkey" primary key ("id"));',
    );
    this.addSql('create index "held_payment_due_idx" on "held_payment" ("state", "next_attempt_at");');
    this.addSql(
      'alter table "held_payment" add constraint "held_payment_provider_ref_unique" unique ("provider", "provider_account", "provider_payment_ref");',
    );
  }
}
