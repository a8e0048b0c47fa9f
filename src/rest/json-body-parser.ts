import { StringDecoder } from 'node:string_decoder';
import { errorCodes, type FastifyInstance } from 'fastify';

const { FST_ERR_CTP_BODY_TOO_LARGE, FST_ERR_CTP_INVALID_CONTENT_LENGTH } = errorCodes;

/**
 * Reads JSON bodies in place of Fastify's reader, with its limit, its errors
 * and its own JSON parser (prototype-poisoning checks included).
 *
 * Fastify keeps a body's chunks and, once the last has arrived, copies them
 * into one buffer and decodes that: two passes over the whole body in the
 * same turn of the event loop as JSON.parse and the route, which for a
 * prompt of megabytes holds every other request up for all of it. Here a
 * body that arrives in more than one chunk is decoded a chunk at a time as
 * it arrives; then joining the text, parsing it and starting the route take
 * a turn each. JSON.parse is one synchronous call over one flat string: its
 * turn is the floor. A body in a single chunk (most requests) is decoded and
 * parsed as Fastify does, with nothing more allocated.
 */
export function readJsonBodiesIncrementally(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', (request, payload, done) => {
    const limit = request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? Number.POSITIVE_INFINITY;
    const declared = Number(request.headers['content-length']);
    if (declared > limit) {
      done(new FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
      return;
    }
    let received = 0;
    let first: Buffer | undefined;
    let decoder: StringDecoder | undefined;
    let parts: string[] = [];

    const stop = () => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
    };
    function onData(data: Buffer | string): void {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      received += chunk.length;
      if (received > limit) {
        stop();
        done(new FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
        return;
      }
      if (decoder) {
        parts.push(decoder.write(chunk));
      } else if (first === undefined) {
        first = chunk;
      } else {
        decoder = new StringDecoder('utf8');
        parts = [decoder.write(first), decoder.write(chunk)];
        first = undefined;
      }
    }
    function onEnd(err?: Error & { statusCode?: number }): void {
      stop();
      if (err) {
        if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
        done(err, undefined);
        return;
      }
      if (!Number.isNaN(declared) && received !== declared) {
        done(new FST_ERR_CTP_INVALID_CONTENT_LENGTH(), undefined);
        return;
      }
      if (decoder) {
        parts.push(decoder.end());
        // Joining, parsing and the route each take a turn of the loop (a
        // setImmediate runs after the poll for I/O): other requests are read
        // and answered in between.
        setImmediate(() => {
          const text = parts.join('');
          parts = [];
          setImmediate(() => void parseJson(request, text, (error, body) => setImmediate(done, error, body)));
        });
        return;
      }
      void parseJson(request, first ? first.toString('utf8') : '', done);
    }
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  });
}
