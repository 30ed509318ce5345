// Package webui serves the webmail single-page app embedded in the binary.
//
// The app is built from web/ (scripts/build-web.sh or `npm run build` in
// web/), which writes into dist/ here; everything in dist/ except the
// committed placeholder notbuilt.html is ignored by git. A fresh clone
// therefore compiles before the app is built, and then serves the
// placeholder page in place of the app.
//
// Caching: files under /assets/ carry a content hash in their name and are
// cached forever; everything else (index.html, the service worker, the
// manifest) must be revalidated so that a new build is picked up at once.
package webui
