import { Migration } from "@mikro-orm/migrations";

/**
 * Exact attribution and payments held for confirmation: the provider's own identity of each VA, the
 * body hash of every inbound SNAP X-EXTERNAL-ID, and the held payments.
 */
export class PaymentBelief extends Migration {
  override up(): void {
    this.addSql("alter table `virtual_account` add column `provider_va_id` text null;");
    this.addSql(
      "create index `virtual_account_provider_id_idx` on `virtual_account` (`provider`, `provider_account`, `provider_va_id`);",
    );
    this.addSql("alter table `snap_external_id` add column `body_hash` text null;");
    this.addSql(
      "create table `held_payment` (`id` text not null, `provider` text not null, `provider_account` text not null, `provider_payment_ref` text not null, `provider_va_id` text null, `va_number` text not null, `amount` bigint not null, `fee` bigint null, `paid_at` datetime not null, `raw_payload` text not null, `reason` text not null, `detail` text not null, `state` text not null, `attempts` integer not null, `next_attempt_at` datetime not null, `received_at` datetime not null, `resolved_at` datetime null, `virtual_account_id` text null, primary key (`id`));",
    );
    this.addSql("create index `held_payment_due_idx` on `held_payment` (`state`, `next_attempt_at`);");
    this.addSql(
      "create unique index `held_payment_provider_ref_unique` on `held_payment` (`provider`, `provider_account`, `provider_payment_ref`);",
    );
  }
}
