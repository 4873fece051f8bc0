import type { MigrationObject } from "@mikro-orm/core";
import { InitialSchema } from "./20261125000000-initial-schema.js";

/** Applied in order on start; one list per dialect because the SQL differs. */
export const postgresqlMigrations: MigrationObject[] = [{ name: "20261125000000-initial-schema", class: InitialSchema }];
