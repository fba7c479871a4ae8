/** Files bundled as text by wrangler's `[[rules]] type = "Text"` (see wrangler.toml). */
declare module "*/dist/web/embed.js" {
  const text: string;
  export default text;
}
