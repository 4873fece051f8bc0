import type { MigrationObject } from "@mikro-orm/core";
import { InitialSchema } from "./20261125000000-initial-schema.js";
import { SnapBiller } from "./20261201000000-snap-biller.js";
import { PaymentBelief } from "./20261202000000-payment-belief.js";
import { ListVirtualAccounts } from "./20261203000000-list-virtual-accounts.js";

/** Applied in order on start; one list per dialect because the SQL differs. */
export const sqliteMigrations: MigrationObject[] = [
  { name: "20261125000000-initial-schema", class: InitialSchema },
  { name: "20261201000000-snap-biller", class: SnapBiller },
  { name: "20261202000000-payment-belief", class: PaymentBelief },
  { name: "20261203000000-list-virtual-accounts", class: ListVirtualAccounts },
];
