// The hooks of module-log.mjs (on the loader thread).
let port;

export function initialize(data) {
  port = data.port;
}

export async function load(url, context, next) {
  const result = await next(url, context);
  port?.postMessage(url);
  return result;
}
