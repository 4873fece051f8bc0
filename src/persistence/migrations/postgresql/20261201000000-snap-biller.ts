import { Migration } from "@mikro-orm/migrations";

/** SNAP biller flow: the database-backed X-EXTERNAL-ID replay guard and the bank inquiries (timer, stored answers). */
export class SnapBiller extends Migration {
  override up(): void {
    this.addSql(
      'create table "biller_inquiry" ("partner_id" varchar(36) not null, "inquiry_request_id" varchar(128) not null, "virtual_account_id" varchar(40) not null, "virtual_account_no" varchar(28) not null, "amount" bigint null, "state" varchar(16) not null, "inquired_at" timestamptz not null, "pay_by" timestamptz not null, "inquiry_answer" text not null, "payment_fingerprint" varchar(64) null, "payment_status" int null, "payment_answer" text null, "paid_amount" bigint null, "paid_at" timestamptz null, "status_checks" int not null, "status_checked_at" timestamptz null, constraint "biller_inquiry_pkey" primary key ("partner_id", "inquiry_request_id"));',
    );
    this.addSql('create index "biller_inquiry_open_idx" on "biller_inquiry" ("state", "pay_by");');
    this.addSql(
      'create table "snap_external_id" ("partner_id" varchar(36) not null, "day" varchar(10) not null, "external_id" varchar(36) not null, "claimed_at" timestamptz not null, constraint "snap_external_id_pkey" primary key ("partner_id", "day", "external_id"));',
    );
    this.addSql('create index "snap_external_id_day_idx" on "snap_external_id" ("day");');
  }
}
