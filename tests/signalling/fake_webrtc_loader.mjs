// Module resolution hook: `webrtc-polyfill` resolves to ./fake_webrtc.mjs.
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'webrtc-polyfill') {
    return { url: new URL('./fake_webrtc.mjs', import.meta.url).href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
