import { Migration } from "@mikro-orm/migrations";

/** The initial schema: virtual accounts, payments (unique per provider reference), the event log, idempotency keys. */
export class InitialSchema extends Migration {
  override up(): void {
    this.addSql(
      'create table "va_event" ("sequence" bigserial primary key, "tenant_id" varchar(64) not null, "virtual_account_id" varchar(40) not null, "merchant_reference" varchar(64) not null, "type" varchar(32) not null, "cause" varchar(16) not null, "occurred_at" timestamptz not null, "virtual_account" text not null, "payment" text null);',
    );
    this.addSql('create index "va_event_tenant_idx" on "va_event" ("tenant_id", "sequence");');
    this.addSql('create index "va_event_virtual_account_idx" on "va_event" ("virtual_account_id", "sequence");');
    this.addSql(
      'create table "idempotency_key" ("tenant_id" varchar(64) not null, "operation" varchar(16) not null, "key" varchar(64) not null, "request_hash" varchar(64) not null, "state" varchar(16) not null, "virtual_account_id" varchar(40) null, "created_at" timestamptz not null, constraint "idempotency_key_pkey" primary key ("tenant_id", "operation", "key"));',
    );
    this.addSql(
      'create table "payment" ("id" varchar(40) not null, "tenant_id" varchar(64) not null, "virtual_account_id" varchar(40) not null, "provider" varchar(32) not null, "provider_account" varchar(64) not null, "provider_payment_ref" varchar(128) not null, "amount" bigint not null, "fee" bigint null, "outcome" varchar(16) not null, "paid_at" timestamptz not null, "recorded_at" timestamptz not null, "raw_payload" text not null, constraint "payment_pkey" primary key ("id"));',
    );
    this.addSql('create index "payment_virtual_account_idx" on "payment" ("virtual_account_id");');
    this.addSql(
      'alter table "payment" add constraint "payment_provider_ref_unique" unique ("provider", "provider_account", "provider_payment_ref");',
    );
    this.addSql(
      'create table "virtual_account" ("id" varchar(40) not null, "tenant_id" varchar(64) not null, "merchant_reference" varchar(64) not null, "provider" varchar(32) not null, "provider_account" varchar(64) not null, "provider_reference" varchar(128) not null, "bank_code" varchar(16) not null, "va_number" varchar(32) not null, "usage" varchar(8) not null, "amount_type" varchar(8) not null, "amount_fixed" bigint null, "amount_min" bigint null, "amount_max" bigint null, "status" varchar(16) not null, "expires_at" timestamptz not null, "customer_name" varchar(100) not null, "customer_email" varchar(254) not null, "customer_phone" varchar(16) not null, "description" varchar(255) not null, "paid_amount" bigint not null, "payment_count" int not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null default 1, constraint "virtual_account_pkey" primary key ("id"));',
    );
    this.addSql('create index "virtual_account_lookup_idx" on "virtual_account" ("provider", "provider_account", "va_number");');
    this.addSql('create index "virtual_account_merchant_ref_idx" on "virtual_account" ("tenant_id", "merchant_reference");');
    this.addSql('create index "virtual_account_due_idx" on "virtual_account" ("status", "expires_at");');
  }
}
