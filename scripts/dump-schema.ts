import { openDatabase } from "../src/persistence/orm.js";
const db = await openDatabase({ url: process.argv[2] || undefined, sqlitePath: "/tmp/dump.sqlite" });
console.log(await db.orm.getSchemaGenerator().getCreateSchemaSQL({ wrap: false }));
await db.close();
