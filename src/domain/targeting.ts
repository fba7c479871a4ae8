/**
 * Targeting trees compiled once per catalog version into closures, so a decision evaluates a
 * campaign's rules without re-reading its JSON. One readable predicate per operator.
 *
 * Semantics (documented in the README):
 * - words compare case-insensitively; `geo.country` upper-case; `daypart` is the UTC hour;
 * - list fields (`topics`, `keywords`) match `in` when any page value is in the list, `notIn` when
 *   none is, `contains`/`prefix` when any page value contains / starts with any rule value;
 * - `language` matches the full tag or its primary subtag (`en` matches a page in `en-GB`);
 * - a field the page does not send matches only `notIn`.
 */
import type { TargetingLeaf, TargetingNode } from "./catalog-schema.js";
import { normalizeWord, type PageContext } from "./context.js";

export type Predicate = (ctx: PageContext) => boolean;

export interface CompiledTargeting {
  readonly source: TargetingNode | undefined;
  readonly matches: Predicate;
}

const EMPTY: readonly string[] = [];

/** The page values a leaf looks at, as a list (scalars become a list of zero or one). */
function fieldValues(field: TargetingLeaf["field"]): (ctx: PageContext) => readonly string[] {
  switch (field) {
    case "section":
      return (ctx) => (ctx.section === undefined ? EMPTY : [ctx.section]);
    case "topics":
      return (ctx) => ctx.topics;
    case "keywords":
      return (ctx) => ctx.keywords;
    case "url":
      return (ctx) => [ctx.url];
    case "language":
      return (ctx) =>
        ctx.language === undefined
          ? EMPTY
          : ctx.languagePrimary && ctx.languagePrimary !== ctx.language
            ? [ctx.language, ctx.languagePrimary]
            : [ctx.language];
    case "geo.country":
      return (ctx) => (ctx.country === undefined ? EMPTY : [ctx.country]);
    case "device.type":
      return (ctx) => (ctx.deviceType === undefined ? EMPTY : [ctx.deviceType]);
    case "daypart":
      return (ctx) => [String(ctx.hourUtc)];
  }
}

function normalizeValue(field: TargetingLeaf["field"], v: string | number): string {
  if (field === "daypart") return String(Number(v));
  if (field === "geo.country") return String(v).trim().toUpperCase();
  return normalizeWord(String(v));
}

export function compileLeaf(leaf: TargetingLeaf): Predicate {
  const values = leaf.values.map((v) => normalizeValue(leaf.field, v));
  const get = fieldValues(leaf.field);
  switch (leaf.op) {
    case "in": {
      const set = new Set(values);
      return (ctx) => get(ctx).some((v) => set.has(v));
    }
    case "notIn": {
      const set = new Set(values);
      return (ctx) => !get(ctx).some((v) => set.has(v));
    }
    case "contains":
      return (ctx) => get(ctx).some((v) => values.some((needle) => v.includes(needle)));
    case "prefix":
      return (ctx) => get(ctx).some((v) => values.some((p) => v.startsWith(p)));
  }
}

export function isLeaf(node: TargetingNode): node is TargetingLeaf {
  return "field" in node;
}

function compileNode(node: TargetingNode): Predicate {
  if (isLeaf(node)) return compileLeaf(node);
  if ("all" in node) {
    const children = node.all.map(compileNode);
    return (ctx) => children.every((p) => p(ctx));
  }
  if ("any" in node) {
    const children = node.any.map(compileNode);
    return (ctx) => children.some((p) => p(ctx));
  }
  const inner = compileNode(node.not);
  return (ctx) => !inner(ctx);
}

const ALWAYS: Predicate = () => true;

export function compileTargeting(tree: TargetingNode | undefined): CompiledTargeting {
  return { source: tree, matches: tree === undefined ? ALWAYS : compileNode(tree) };
}

/**
 * The node that makes a tree fail for this page, for `explain`: the first failing leaf under an
 * `all`, the `any` node itself when none of its children match, the `not` node when its child
 * matches. `undefined` when the tree matches.
 */
export function findFailingNode(tree: TargetingNode | undefined, ctx: PageContext): TargetingNode | undefined {
  if (tree === undefined) return undefined;
  if (isLeaf(tree)) return compileLeaf(tree)(ctx) ? undefined : tree;
  if ("all" in tree) {
    for (const child of tree.all) {
      const failing = findFailingNode(child, ctx);
      if (failing) return failing;
    }
    return undefined;
  }
  if ("any" in tree) return tree.any.some((c) => findFailingNode(c, ctx) === undefined) ? undefined : tree;
  return findFailingNode(tree.not, ctx) === undefined ? tree : undefined;
}

/**
 * Index keys a page must carry for this tree to possibly match (`s:<section>`, `t:<topic>`,
 * `k:<keyword>`), or `undefined` when the tree can match pages without any of them. Sound but not
 * complete: used only to skip campaigns that cannot match, never to decide a match.
 */
export function requiredIndexKeys(tree: TargetingNode | undefined): string[] | undefined {
  if (tree === undefined) return undefined;
  if (isLeaf(tree)) {
    if (tree.op !== "in") return undefined;
    const prefix = tree.field === "section" ? "s:" : tree.field === "topics" ? "t:" : tree.field === "keywords" ? "k:" : undefined;
    if (!prefix) return undefined;
    return [...new Set(tree.values.map((v) => prefix + normalizeValue(tree.field, v)))];
  }
  if ("all" in tree) {
    let best: string[] | undefined;
    for (const child of tree.all) {
      const keys = requiredIndexKeys(child);
      if (keys && (!best || keys.length < best.length)) best = keys;
    }
    return best;
  }
  if ("any" in tree) {
    const union = new Set<string>();
    for (const child of tree.any) {
      const keys = requiredIndexKeys(child);
      if (!keys) return undefined;
      for (const k of keys) union.add(k);
    }
    return [...union];
  }
  return undefined;
}

/** The index keys a page carries (see `requiredIndexKeys`). */
export function pageIndexKeys(ctx: PageContext): string[] {
  const keys: string[] = [];
  if (ctx.section !== undefined) keys.push("s:" + ctx.section);
  for (const t of ctx.topics) keys.push("t:" + t);
  for (const k of ctx.keywords) keys.push("k:" + k);
  return keys;
}
