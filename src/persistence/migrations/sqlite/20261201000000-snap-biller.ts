import { Migration } from "@mikro-orm/migrations";

/** SNAP biller flow: the database-backed X-EXTERNAL-ID replay guard and the bank inquiries (timer, stored answers). */
export class SnapBiller extends Migration {
  override up(): void {
    this.addSql(
      "create table `biller_inquiry` (`partner_id` text not null, `inquiry_request_id` text not null, `virtual_account_id` text not null, `virtual_account_no` text not null, `amount` bigint null, `state` text not null, `inquired_at` datetime not null, `pay_by` datetime not null, `inquiry_answer` text not null, `payment_fingerprint` text null, `payment_status` integer null, `payment_answer` text null, `paid_amount` bigint null, `paid_at` datetime null, `status_checks` integer not null, `status_checked_at` datetime null, primary key (`partner_id`, `inquiry_request_id`));",
    );
    this.addSql("create index `biller_inquiry_open_idx` on `biller_inquiry` (`state`, `pay_by`);");
    this.addSql(
      "create table `snap_external_id` (`partner_id` text not null, `day` text not null, `external_id` text not null, `claimed_at` datetime not null, primary key (`partner_id`, `day`, `external_id`));",
    );
    this.addSql("create index `snap_external_id_day_idx` on `snap_external_id` (`day`);");
  }
}
