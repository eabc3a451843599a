import { describe, expect, it } from 'vitest'
import { isStaticAsset } from '../../src/shell/har/static-assets.js'

const asset = (method: string, url: string, mimeType?: string, resourceType?: string): boolean =>
  isStaticAsset({ method, url, mimeType, resourceType })

describe('isStaticAsset', () => {
  it.each([
    ['a script by MIME type alone', 'GET', 'https://a.test/bundle', 'text/javascript; charset=utf-8'],
    ['a font by MIME type alone', 'GET', 'https://a.test/f', 'application/font-woff'],
    ['a video by MIME type alone', 'GET', 'https://a.test/v', 'video/mp4'],
    ['a source map by extension', 'GET', 'https://a.test/app.js.map', 'application/json'],
    ['an image by extension, query string aside', 'GET', 'https://a.test/logo.SVG?v=3', undefined],
    ['a stylesheet by resource type', 'GET', 'https://a.test/theme', undefined, 'stylesheet'],
  ])('recognises %s', (_name, method, url, mimeType, resourceType?: string) => {
    expect(asset(method, url, mimeType, resourceType)).toBe(true)
  })

  it.each([
    ['an API call returning JSON', 'GET', 'https://a.test/api/items', 'application/json', 'fetch'],
    ['a page', 'GET', 'https://a.test/', 'text/html', 'document'],
    ['a POST to an image URL (an upload, not an asset)', 'POST', 'https://a.test/avatar.png', 'image/png', 'fetch'],
  ])('keeps %s', (_name, method, url, mimeType, resourceType) => {
    expect(asset(method, url, mimeType, resourceType)).toBe(false)
  })
})
