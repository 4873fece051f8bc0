import { Migration } from "@mikro-orm/migrations";

/** ListVirtualAccounts: a tenant's VAs newest first, resumed from a page token. */
export class ListVirtualAccounts extends Migration {
  override up(): void {
    this.addSql("create index `virtual_account_tenant_created_idx` on `virtual_account` (`tenant_id`, `created_at`, `id`);");
  }
}
