import { Migration } from "@mikro-orm/migrations";

/** The initial schema: virtual accounts, payments (unique per provider reference), the event log, idempotency keys. */
export class InitialSchema extends Migration {
  override up(): void {
    this.addSql(
      "create table `va_event` (`sequence` integer not null primary key autoincrement, `tenant_id` text not null, `virtual_account_id` text not null, `merchant_reference` text not null, `type` text not null, `cause` text not null, `occurred_at` datetime not null, `virtual_account` text not null, `payment` text null);",
    );
    this.addSql("create index `va_event_tenant_idx` on `va_event` (`tenant_id`, `sequence`);");
    this.addSql("create index `va_event_virtual_account_idx` on `va_event` (`virtual_account_id`, `sequence`);");
    this.addSql(
      "create table `idempotency_key` (`tenant_id` text not null, `operation` text not null, `key` text not null, `request_hash` text not null, `state` text not null, `virtual_account_id` text null, `created_at` datetime not null, primary key (`tenant_id`, `operation`, `key`));",
    );
    this.addSql(
      "create table `payment` (`id` text not null, `tenant_id` text not null, `virtual_account_id` text not null, `provider` text not null, `provider_account` text not null, `provider_payment_ref` text not null, `amount` bigint not null, `fee` bigint null, `outcome` text not null, `paid_at` datetime not null, `recorded_at` datetime not null, `raw_payload` text not null, primary key (`id`));",
    );
    this.addSql("create index `payment_virtual_account_idx` on `payment` (`virtual_account_id`);");
    this.addSql(
      "create unique index `payment_provider_ref_unique` on `payment` (`provider`, `provider_account`, `provider_payment_ref`);",
    );
    this.addSql(
      "create table `virtual_account` (`id` text not null, `tenant_id` text not null, `merchant_reference` text not null, `provider` text not null, `provider_account` text not null, `provider_reference` text not null, `bank_code` text not null, `va_number` text not null, `usage` text not null, `amount_type` text not null, `amount_fixed` bigint null, `amount_min` bigint null, `amount_max` bigint null, `status` text not null, `expires_at` datetime not null, `customer_name` text not null, `customer_email` text not null, `customer_phone` text not null, `description` text not null, `paid_amount` bigint not null, `payment_count` integer not null, `created_at` datetime not null, `updated_at` datetime not null, `version` integer not null default 1, primary key (`id`));",
    );
    this.addSql("create index `virtual_account_lookup_idx` on `virtual_account` (`provider`, `provider_account`, `va_number`);");
    this.addSql("create index `virtual_account_merchant_ref_idx` on `virtual_account` (`tenant_id`, `merchant_reference`);");
    this.addSql("create index `virtual_account_due_idx` on `virtual_account` (`status`, `expires_at`);");
  }
}
