// @ts-check
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Global names are listed inline on purpose: the `globals` package is only a
// transitive dependency of eslint, not one of ours, so importing it would rely
// on npm's hoisting. For .ts files typescript-eslint turns `no-undef` off (the
// compiler checks names), so these lists only matter for plain .js files.
const browserGlobals = Object.fromEntries(
  [
    'window', 'self', 'document', 'navigator', 'location', 'history', 'screen',
    'console', 'fetch', 'Request', 'Response', 'Headers', 'URL', 'URLSearchParams',
    'AbortController', 'AbortSignal', 'Blob', 'FormData', 'TextEncoder', 'TextDecoder',
    'crypto', 'performance', 'localStorage', 'sessionStorage',
    'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval',
    'requestAnimationFrame', 'cancelAnimationFrame', 'requestIdleCallback', 'cancelIdleCallback',
    'queueMicrotask', 'structuredClone', 'getComputedStyle', 'matchMedia',
    'Event', 'CustomEvent', 'EventTarget', 'Node', 'Element', 'HTMLElement',
    'HTMLAnchorElement', 'HTMLIFrameElement', 'HTMLImageElement', 'HTMLScriptElement',
    'DocumentFragment', 'DOMParser', 'MutationObserver', 'IntersectionObserver', 'ResizeObserver',
  ].map((name) => [name, 'readonly']),
);

const nodeGlobals = Object.fromEntries(
  [
    'process', 'console', 'Buffer', 'global', 'URL', 'URLSearchParams', 'fetch',
    'AbortController', 'TextEncoder', 'TextDecoder', 'performance', 'structuredClone',
    'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval',
    'setImmediate', 'clearImmediate', 'queueMicrotask',
  ].map((name) => [name, 'readonly']),
);

export default defineConfig(
  globalIgnores(['node_modules/', 'dist/', '.wrangler/', 'coverage/', 'docs/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    ignores: ['src/web/**'],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ['src/web/**'],
    languageOptions: { globals: browserGlobals },
  },
);
