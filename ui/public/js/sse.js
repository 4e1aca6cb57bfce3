/**
 * A Server-Sent Events parser (the WHATWG event-stream format) fed with decoded text chunks, so
 * the live tail can read the stream through fetch() — with the Authorization header, which
 * EventSource cannot send, and with a 401 the UI can see.
 */

/**
 * Returns `push(text)`; every complete event is passed to `onEvent({ event, data, id })`.
 * Chunks may split lines and events anywhere; comment lines (heartbeats) are ignored.
 */
export function createSseParser(onEvent) {
  let buffer = '';
  let data = [];
  let event = '';
  let id = '';

  function line(text) {
    if (text === '') {
      if (data.length > 0) onEvent({ event: event || 'message', data: data.join('\n'), id });
      data = [];
      event = '';
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
  }

  return function push(chunk) {
    buffer += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      if (!match) break;
      // A lone \r at the very end may be the first half of \r\n: wait for the next chunk.
      if (match[0] === '\r' && match.index === buffer.length - 1) break;
      line(buffer.slice(0, match.index));
      buffer = buffer.slice(match.index + match[0].length);
    }
  };
}
