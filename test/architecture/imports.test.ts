import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseSync } from "@swc/core";
import { describe, expect, it } from "vitest";

/**
 * Import rules: which layer may import which, checked on every import in src/, bench/, test/ and
 * scripts/ (`npm run lint` runs this file). From the edge inward: the wiring (gateway.ts, wiring/)
 * → transport and operability → app → domain. Providers and protocols are adapters the app reaches
 * through the provider contract; sandbox/ holds the test doubles (simulators, sandbox kits, the
 * bank simulator) that only the wiring starts.
 *
 * dependency-cruiser would be the tool, but no release both runs on Node 20 and reads TypeScript 7
 * sources with `import type` told apart (18.x needs Node 22; 17.x parses them only through swc and
 * then drops the type-only flag), and TypeScript 7 has no in-process compiler API. So swc parses
 * the sources here, and relative imports are resolved as NodeNext does (`./x.js` is `./x.ts`).
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SCANNED = ["src", "bench", "test", "scripts"];

interface Import {
  /** Repository-relative path of the importing file. */
  from: string;
  /** Repository-relative path of the imported file; the bare specifier for a package or builtin. */
  to: string;
  kind: "file" | "builtin" | "package" | "unresolved";
  /** `import type`, `export type … from`, imports whose every name is a type, `typeof import(…)`. */
  typeOnly: boolean;
}

/** What the use cases may name of the outer layers, as types only: nothing of them runs in app/. */
const APP_TYPE_ONLY = [
  // The store and its repositories: the transactions a use case runs.
  /^src\/persistence\//,
  // The provider contracts (every provider's, and the biller's read bank requests and outcomes), and capabilities.
  /^src\/providers\/(provider|biller|capabilities)\.ts$/,
  // The logger interface.
  /^src\/logging\.ts$/,
];

interface Rule {
  name: string;
  /** Files the rule applies to. */
  from: RegExp;
  fromNot?: RegExp;
  forbidden(dependency: Import): boolean;
}

const file = (pattern: RegExp) => (dependency: Import) => dependency.kind === "file" && pattern.test(dependency.to);

const RULES: Rule[] = [
  {
    name: "src/domain imports only src/domain and node: builtins",
    from: /^src\/domain\//,
    forbidden: (d) => d.kind !== "builtin" && !/^src\/domain\//.test(d.to),
  },
  {
    name: "src/app imports src/domain and node: builtins, and of the outer layers only the types in APP_TYPE_ONLY",
    from: /^src\/app\//,
    forbidden: (d) =>
      d.kind !== "builtin" &&
      !/^src\/(app|domain)\//.test(d.to) &&
      !(d.typeOnly && APP_TYPE_ONLY.some((allowed) => allowed.test(d.to))),
  },
  {
    name: "only the wiring that starts them (gateway.ts, src/wiring/) imports the test doubles in src/sandbox",
    from: /^src\//,
    fromNot: /^src\/(sandbox\/|wiring\/|gateway\.ts$)/,
    forbidden: file(/^src\/sandbox\//),
  },
  {
    name: "src/providers never imports src/sandbox, src/transport, src/app or src/persistence",
    from: /^src\/providers\//,
    forbidden: file(/^src\/(sandbox|transport|app|persistence)\//),
  },
  {
    name: "src/transport never imports src/operability",
    from: /^src\/transport\//,
    forbidden: file(/^src\/operability\//),
  },
  {
    name: "src/operability imports of transport only its plain-HTTP plumbing, src/transport/http",
    from: /^src\/operability\//,
    forbidden: (d) => file(/^src\/transport\//)(d) && !/^src\/transport\/http\//.test(d.to),
  },
  {
    name: "src/transport/http imports nothing else of transport",
    from: /^src\/transport\/http\//,
    forbidden: (d) => file(/^src\/transport\//)(d) && !/^src\/transport\/http\//.test(d.to),
  },
  {
    name: "src and bench import nothing from test/",
    from: /^(src|bench)\//,
    forbidden: file(/^test\//),
  },
  {
    name: "every relative import resolves (an unresolved one would slip past the rules above)",
    from: /./,
    forbidden: (d) => d.kind === "unresolved",
  },
];

/**
 * Imports that break a rule today and are on their way out, as `from → to`. Each must still exist
 * (the last test fails once it is gone, so the entry is removed with the fix).
 */
// Known violations being worked off, each removed with its fix (none left).
const PENDING = new Set<string>([]);

const graph = readImportGraph();

describe("import rules", () => {
  for (const rule of RULES) {
    it(rule.name, () => {
      const violations = graph
        .filter((d) => rule.from.test(d.from) && !rule.fromNot?.test(d.from) && rule.forbidden(d))
        .map(edge)
        .filter((e) => !PENDING.has(e));
      expect(violations).toEqual([]);
    });
  }

  it("every pending violation still exists", () => {
    const edges = new Set(graph.map(edge));
    expect([...PENDING].filter((e) => !edges.has(e))).toEqual([]);
  });
});

function edge(d: Import): string {
  return `${d.from} → ${d.to}${d.typeOnly ? " (type)" : ""}`;
}

function readImportGraph(): Import[] {
  const files = SCANNED.flatMap((dir) => sourceFiles(join(ROOT, dir)));
  return files.flatMap((path) => importsOf(path));
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith(".d.ts"))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !path.includes(`${join("test", "fixtures")}`) && !path.includes("node_modules"));
}

function importsOf(path: string): Import[] {
  const typescript = /\.m?ts$/.test(path);
  const module = parseSync(readFileSync(path, "utf8"), typescript ? { syntax: "typescript" } : { syntax: "ecmascript" });
  const found: { specifier: string; typeOnly: boolean }[] = [];
  for (const item of module.body) {
    if (item.type === "ImportDeclaration") {
      const allTypes = item.specifiers.length > 0 && item.specifiers.every((s) => s.type === "ImportSpecifier" && s.isTypeOnly);
      found.push({ specifier: item.source.value, typeOnly: item.typeOnly || allTypes });
    } else if (item.type === "ExportNamedDeclaration" && item.source) {
      const allTypes = item.specifiers.length > 0 && item.specifiers.every((s) => s.type === "ExportSpecifier" && s.isTypeOnly);
      found.push({ specifier: item.source.value, typeOnly: item.typeOnly || allTypes });
    } else if (item.type === "ExportAllDeclaration") {
      found.push({ specifier: item.source.value, typeOnly: false });
    }
  }
  // `import("…")` anywhere: a value when called, a type inside `typeof import("…")`.
  visit(module.body, (node) => {
    if (node.type === "CallExpression" && (node.callee as { type?: string }).type === "Import") {
      const argument = (node.arguments as { expression: { type: string; value?: string } }[])[0]?.expression;
      if (argument?.type === "StringLiteral" && argument.value) found.push({ specifier: argument.value, typeOnly: false });
    } else if (node.type === "TsImportType") {
      found.push({ specifier: (node.argument as { value: string }).value, typeOnly: true });
    }
  });
  const from = relative(ROOT, path);
  return found.map(({ specifier, typeOnly }) => ({ from, typeOnly, ...target(path, specifier) }));
}

function target(path: string, specifier: string): Pick<Import, "to" | "kind"> {
  if (specifier.startsWith("node:") || builtinModules.includes(specifier)) return { to: specifier, kind: "builtin" };
  if (!specifier.startsWith(".")) return { to: specifier, kind: "package" };
  const absolute = resolve(dirname(path), specifier);
  const candidates = [absolute.replace(/\.js$/, ".ts"), absolute.replace(/\.mjs$/, ".mts"), absolute];
  const hit = candidates.find((candidate) => existsSync(candidate));
  return hit ? { to: relative(ROOT, hit), kind: "file" } : { to: relative(ROOT, absolute), kind: "unresolved" };
}

function visit(node: unknown, onNode: (node: { type: string } & Record<string, unknown>) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) visit(child, onNode);
  } else if (node !== null && typeof node === "object") {
    if (typeof (node as { type?: unknown }).type === "string") onNode(node as { type: string } & Record<string, unknown>);
    for (const value of Object.values(node)) visit(value, onNode);
  }
}
