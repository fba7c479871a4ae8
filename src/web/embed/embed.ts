/// <reference lib="dom" />
/**
 * embed.js: the publisher's one script tag. Finds `[data-sponsored-slot]` elements, reads the page
 * context from standard tags, makes ONE `POST /v1/decisions` for all slots on the page, renders the
 * cards, collapses slots with no fill, and fires the impression beacon when a card is rendered and
 * the viewable beacon once at least 50 % of it has been in view for 1 continuous second
 * (IAB/MRC display). Slots added later (infinite scroll) are filled by a later call with the same
 * page view id. Dependency-free; bundled and minified at build time (scripts/build.ts).
 */

interface Unit {
  html: string;
  tracking: { impression: string; viewable: string };
}
interface SlotResult {
  id: string;
  units: Unit[];
  noFillReason?: string;
}

const SLOT = "data-sponsored-slot";
const STATE = "data-sp-state";
const KEY_STORAGE = "sp_reader";

const script = document.currentScript as HTMLScriptElement | null;
const origin = script?.src ? new URL(script.src).origin : location.origin;
const rand = (): string => Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
const pageViewId = "pv-" + rand();
let slotSeq = 0;

const meta = (attr: string, name: string): string | undefined =>
  document.querySelector<HTMLMetaElement>(`meta[${attr}="${name}"]`)?.content?.trim() || undefined;

const list = (values: (string | undefined)[]): string[] =>
  values.flatMap((v) => (v ? v.split(",") : [])).map((v) => v.trim()).filter(Boolean).slice(0, 50);

function readerKey(): string | undefined {
  // Global Privacy Control: no reader key is kept or sent.
  if ((navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl) return undefined;
  try {
    let key = localStorage.getItem(KEY_STORAGE);
    if (!key) localStorage.setItem(KEY_STORAGE, (key = rand() + rand()));
    return key;
  } catch {
    return undefined;
  }
}

function beacon(url: string): void {
  try {
    if (navigator.sendBeacon?.(url)) return;
  } catch {
    /* fall through to the image */
  }
  new Image().src = url;
}

/** Viewable: ≥ 50 % in view for 1 continuous second, once per card. */
const timers = new WeakMap<Element, number>();
const viewableUrl = new WeakMap<Element, string>();
const observer =
  "IntersectionObserver" in window
    ? new IntersectionObserver(
        (entries) => {
          for (const e of entries) {
            const el = e.target;
            if (e.intersectionRatio >= 0.5) {
              if (!timers.has(el)) {
                timers.set(
                  el,
                  window.setTimeout(() => {
                    const url = viewableUrl.get(el);
                    observer?.unobserve(el);
                    if (url) beacon(url);
                  }, 1000),
                );
              }
            } else {
              clearTimeout(timers.get(el));
              timers.delete(el);
            }
          }
        },
        { threshold: [0, 0.5, 1] },
      )
    : undefined;

/**
 * Default card styles, all inside `:where()` (zero specificity) so any publisher rule on the
 * documented class names wins. Injected once, before the page's own styles.
 */
const CSS =
  "[data-sp-state=empty]{display:none!important}" +
  ":where(.sponsored-unit){display:flex;gap:16px;align-items:flex-start;margin:24px 0;padding:16px;border:1px solid #e2e2e2;border-radius:8px;background:#fafafa;font:inherit;color:inherit}" +
  ":where(.sponsored-unit__media){flex:0 0 38%;max-width:280px}" +
  ":where(.sponsored-unit__image){display:block;width:100%;height:auto;border-radius:4px}" +
  ":where(.sponsored-unit__content){flex:1;min-width:0}" +
  ":where(.sponsored-unit__disclosure){margin:0 0 6px;font-size:.75em;letter-spacing:.04em;text-transform:uppercase;color:#666}" +
  ":where(.sponsored-unit__label){font-weight:700}" +
  ":where(.sponsored-unit__headline){margin:0 0 6px;font-size:1.1em;line-height:1.3}" +
  ":where(.sponsored-unit__headline a){color:inherit;text-decoration:none}" +
  ":where(.sponsored-unit__body){margin:0 0 8px;font-size:.95em;line-height:1.5}" +
  ":where(.sponsored-unit__cta){font-weight:600;color:#0b57d0}" +
  "@media (max-width:600px){:where(.sponsored-unit){flex-direction:column}:where(.sponsored-unit__media){max-width:none;width:100%}}";
if (!document.getElementById("sponsored-placements-css")) {
  const style = document.createElement("style");
  style.id = "sponsored-placements-css";
  style.textContent = CSS;
  document.head.insertBefore(style, document.head.firstChild);
}

function render(el: HTMLElement, result: SlotResult | undefined): void {
  const units = result?.units ?? [];
  if (units.length === 0) {
    el.setAttribute(STATE, "empty");
    el.hidden = true;
    el.classList.add("sponsored-slot--empty");
    return;
  }
  // The server escapes every advertiser string and links only to its signed click URL.
  el.innerHTML = units.map((u) => u.html).join("");
  el.setAttribute(STATE, "filled");
  el.classList.add("sponsored-slot--filled");
  const cards = el.querySelectorAll(".sponsored-unit");
  units.forEach((u, i) => {
    beacon(u.tracking.impression);
    const card = cards[i];
    if (card && observer) {
      viewableUrl.set(card, u.tracking.viewable);
      observer.observe(card);
    }
  });
}

function fill(): void {
  const els = Array.from(document.querySelectorAll<HTMLElement>(`[${SLOT}]:not([${STATE}])`)).slice(0, 10);
  if (els.length === 0) return;
  const slots = els.map((el) => {
    el.setAttribute(STATE, "pending");
    const id = el.id || `sp-${++slotSeq}`;
    el.dataset.spSlotId = id;
    const count = Math.min(5, Math.max(1, parseInt(el.dataset.count ?? "1", 10) || 1));
    return { id, placement: el.getAttribute(SLOT) ?? "", count };
  });
  const canonical = document.querySelector<HTMLLinkElement>('link[rel="canonical"]')?.href;
  const key = readerKey();
  const body = {
    page: {
      url: canonical || location.href.split("#")[0],
      section: meta("property", "article:section"),
      topics: list(Array.from(document.querySelectorAll<HTMLMetaElement>('meta[property="article:tag"]'), (m) => m.content)),
      keywords: list([meta("name", "keywords")]),
      title: meta("property", "og:title") || document.title || undefined,
      language: document.documentElement.lang || undefined,
      pageViewId,
    },
    ...(key ? { user: { key } } : {}),
    slots,
  };
  // text/plain keeps it a CORS-simple request (no preflight); the service accepts JSON in it.
  fetch(origin + "/v1/decisions", { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "text/plain" }, credentials: "omit", keepalive: true })
    .then((r) => (r.ok ? (r.json() as Promise<{ slots: SlotResult[] }>) : Promise.reject(new Error(String(r.status)))))
    .then((d) => els.forEach((el, i) => render(el, d.slots.find((s) => s.id === slots[i]?.id))))
    .catch(() => els.forEach((el) => render(el, undefined)));
}

let queued = false;
function schedule(): void {
  if (queued) return;
  queued = true;
  setTimeout(() => {
    queued = false;
    fill();
  }, 50);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fill);
else fill();
// Slots added after the first fill (infinite scroll); while the page is still loading, the
// DOMContentLoaded fill takes every slot in one call.
new MutationObserver(() => {
  if (document.readyState !== "loading") schedule();
}).observe(document.documentElement, { childList: true, subtree: true });
(window as Window & { sponsoredPlacements?: { refresh(): void; pageViewId: string } }).sponsoredPlacements = { refresh: fill, pageViewId };
