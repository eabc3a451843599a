/**
 * What counts as a static asset in a browser recording: the files a CDN or the browser cache
 * serves in real life, which would otherwise dominate a replayed load test. Decided by the
 * browser's own resource type (Chrome's `_resourceType`), the response's MIME type, or the URL's
 * extension — any one is enough — and only for GET/HEAD: a POST to `/avatar.png` is an API call.
 */
const RESOURCE_TYPES = new Set(['script', 'stylesheet', 'image', 'font', 'media', 'manifest', 'texttrack'])

const MIME = /^(?:image|font|audio|video)\/|^text\/css\b|^(?:application|text)\/(?:x-)?(?:java|ecma)script\b|^application\/(?:x-)?font-|^application\/vnd\.ms-fontobject\b|^application\/wasm\b|^application\/manifest\+json\b/i

const EXTENSIONS = new Set([
  'js', 'mjs', 'cjs', 'css', 'map',
  'png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'svg', 'ico', 'bmp', 'tif', 'tiff', 'apng',
  'woff', 'woff2', 'ttf', 'otf', 'eot',
  'mp4', 'webm', 'mp3', 'ogg', 'oga', 'ogv', 'wav', 'm4a', 'aac', 'flac', 'mov', 'avi', 'vtt',
  'wasm', 'webmanifest',
])

export interface AssetFacts {
  method: string
  url: string
  mimeType: string | undefined
  resourceType: string | undefined
}

/** True when the request fetches a static asset (script, style, image, font, media, source map). */
export function isStaticAsset(facts: AssetFacts): boolean {
  const method = facts.method.toUpperCase()
  if (method !== 'GET' && method !== 'HEAD') return false
  if (facts.resourceType !== undefined && RESOURCE_TYPES.has(facts.resourceType.toLowerCase())) return true
  if (facts.mimeType !== undefined && MIME.test(facts.mimeType.trim())) return true
  let pathname: string
  try {
    pathname = new URL(facts.url).pathname
  } catch {
    return false
  }
  const ext = /\.([A-Za-z0-9]+)$/.exec(pathname)?.[1]?.toLowerCase()
  return ext !== undefined && EXTENSIONS.has(ext)
}
