/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';

// Paths served by the Go server itself, never by the app: the service
// worker must not answer navigations to them with the app shell.
const serverPaths = [/^\/jmap/, /^\/login/, /^\/logout/, /^\/admin/, /^\/dav/, /^\/\.well-known/, /^\/p\//];

// In development, `npm run dev` proxies the server's endpoints to a running
// binary (FREEHOLD_URL, default http://127.0.0.1:8080).
const backend = process.env.FREEHOLD_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [
    svelte(),
    VitePWA({
      // An external registerSW.js: the CSP forbids inline scripts.
      injectRegister: 'script-defer',
      registerType: 'autoUpdate',
      includeAssets: ['icon.svg'],
      manifest: {
        name: 'Freehold Mail',
        short_name: 'Mail',
        description: 'Your mail, on your own server',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: '#1f5fa8',
        icons: [
          { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
          { src: '/icon-maskable.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'maskable' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,webmanifest}'],
        globIgnores: ['notbuilt.html'],
        navigateFallback: '/index.html',
        navigateFallbackDenylist: serverPaths,
        cleanupOutdatedCaches: true,
      },
    }),
  ],
  build: {
    outDir: '../internal/webui/dist',
    // scripts/clean-dist.mjs empties it but keeps the committed placeholder.
    emptyOutDir: false,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    proxy: Object.fromEntries(
      ['/jmap', '/login', '/logout', '/.well-known'].map((p) => [p, { target: backend, changeOrigin: false }]),
    ),
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
