/**
 * `GET /demo/article`: a sample news article laid out as a publisher would, with a mid-article
 * slot and an end-of-article slot of three cards, filled by `embed.js` exactly as on a real site
 * (one script tag, a few `div`s). `?story=SLUG` picks another fixture page. A "more stories" button
 * appends a slot later, as infinite scroll does, to show separation across calls of one page view.
 */
import { escapeHtml as e } from "../domain/payload.js";

export interface DemoStory {
  readonly slug: string;
  readonly page: {
    readonly url: string;
    readonly section?: string;
    readonly topics?: readonly string[];
    readonly keywords?: readonly string[];
    readonly title?: string;
    readonly language?: string;
  };
  readonly paragraphs?: readonly string[];
}

export function renderDemoArticle(story: DemoStory, others: readonly DemoStory[]): string {
  const p = story.page;
  const paragraphs = story.paragraphs?.length ? story.paragraphs : [p.title ?? story.slug];
  const half = Math.min(2, paragraphs.length);
  const para = (t: string): string => `<p>${e(t)}</p>`;
  const related = others
    .filter((o) => o.slug !== story.slug)
    .map((o) => `<li><a href="?story=${encodeURIComponent(o.slug)}">${e(o.page.title ?? o.slug)}</a></li>`)
    .join("");
  return `<!doctype html>
<html lang="${e(p.language ?? "en")}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(p.title ?? story.slug)} · The World Brief</title>
<link rel="canonical" href="${e(p.url)}">
<meta property="og:title" content="${e(p.title ?? "")}">
${p.section ? `<meta property="article:section" content="${e(p.section)}">` : ""}
${(p.topics ?? []).map((t) => `<meta property="article:tag" content="${e(t)}">`).join("\n")}
<meta name="keywords" content="${e((p.keywords ?? []).join(", "))}">
<style>
  body { margin: 0; font: 18px/1.6 Georgia, "Times New Roman", serif; color: #1a1a1a; background: #fff; }
  .masthead { border-bottom: 3px double #1a1a1a; padding: 12px 20px; font: 700 26px/1.2 Georgia, serif; letter-spacing: .02em; }
  .masthead small { display: block; font: 13px/1.4 system-ui, sans-serif; letter-spacing: 0; color: #666; }
  article { max-width: 680px; margin: 0 auto; padding: 24px 20px 48px; }
  .kicker { font: 700 13px/1 system-ui, sans-serif; text-transform: uppercase; letter-spacing: .08em; color: #b3261e; }
  h1 { font-size: 34px; line-height: 1.2; margin: 8px 0 16px; }
  .byline { font: 14px/1.4 system-ui, sans-serif; color: #666; margin-bottom: 24px; }
  .more { max-width: 680px; margin: 0 auto; padding: 0 20px 48px; font-family: system-ui, sans-serif; }
  .more h2 { font-size: 18px; border-top: 1px solid #ddd; padding-top: 16px; }
  .more button { font: inherit; padding: 8px 16px; border: 1px solid #1a1a1a; background: #fff; cursor: pointer; }
  /* Publisher overrides of the sponsored cards: plain CSS on the documented class names. */
  .sponsored-unit { font-family: system-ui, sans-serif; font-size: 16px; }
  .sponsored-unit__sponsor { font-weight: 700; color: #1a1a1a; }
  @media (max-width: 600px) { body { font-size: 17px; } h1 { font-size: 27px; } }
</style>
</head>
<body>
<header class="masthead">The World Brief<small>Demo article · sponsored cards by Sponsored Placements</small></header>
<article>
  <div class="kicker">${e(p.section ?? "news")}</div>
  <h1>${e(p.title ?? story.slug)}</h1>
  <div class="byline">By the World Brief desk</div>
  ${paragraphs.slice(0, half).map(para).join("\n  ")}
  <div data-sponsored-slot="article-mid" id="slot-mid"></div>
  ${paragraphs.slice(half).map(para).join("\n  ")}
  <div data-sponsored-slot="article-end" data-count="3" id="slot-end"></div>
</article>
<section class="more">
  <h2>More stories</h2>
  <ul>${related}</ul>
  <div id="more-slots"></div>
  <button type="button" id="load-more">Load more</button>
</section>
<script src="/demo/article.js" defer></script>
<script async src="/embed.js"></script>
</body>
</html>`;
}

/** The demo's "load more" button: appends a slot later, as infinite scroll would. */
export const DEMO_ARTICLE_JS = `document.getElementById("load-more").addEventListener("click", function () {
  var n = document.querySelectorAll("#more-slots [data-sponsored-slot]").length + 1;
  var slot = document.createElement("div");
  slot.setAttribute("data-sponsored-slot", "article-end");
  slot.setAttribute("data-count", "2");
  slot.id = "slot-more-" + n;
  document.getElementById("more-slots").appendChild(slot);
});`;
