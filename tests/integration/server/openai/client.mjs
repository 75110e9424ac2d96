// client.mjs — drive `chorus serve` with the official, unmodified OpenAI Node SDK.
// usage: node client.mjs BASE_URL API_KEY OUTDIR FORMAT...
// Writes OUTDIR/sdk.<fmt> (arrayBuffer), OUTDIR/stream.<fmt> (body read as a stream) and
// OUTDIR/sse.wav (SSE deltas joined); checks the SDK's error classes; prints one line per check
// and exits 1 if any failed. The shell test decodes the files with ffprobe/sox.
import OpenAI from 'openai';
import { writeFileSync } from 'node:fs';

const [base, key, outdir, ...formats] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: key, maxRetries: 0, timeout: 60000 });
const text = 'The quick brown fox jumps over the lazy dog. Chorus speaks for OpenAI clients.';
let failed = 0;
const check = (what, cond, detail = '') => {
  console.log(`${cond ? 'ok' : 'FAIL'}: ${what}${detail ? ' (' + detail + ')' : ''}`);
  if (!cond) failed++;
};

for (const fmt of formats) {
  const res = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: text, response_format: fmt });
  const buf = Buffer.from(await res.arrayBuffer());
  check(`speech.create ${fmt}: bytes arrive`, buf.length > 1000, `${buf.length} bytes`);
  writeFileSync(`${outdir}/sdk.${fmt}`, buf);

  // stream the body as it is generated
  const sres = await client.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'nova', input: text, response_format: fmt, speed: 1.25 });
  const reader = sres.body.getReader();
  const parts = [];
  let chunks = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(Buffer.from(value));
    chunks++;
  }
  const sbuf = Buffer.concat(parts);
  check(`streamed body ${fmt}: arrives in pieces`, chunks >= 1 && sbuf.length > 1000, `${chunks} reads, ${sbuf.length} bytes`);
  writeFileSync(`${outdir}/stream.${fmt}`, sbuf);
}

// SSE: the SDK hands back the raw response; parse text/event-stream ourselves, as its users do
{
  const res = await client.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'coral', input: text, response_format: 'wav', stream_format: 'sse' });
  check('sse content type', (res.headers.get('content-type') || '').startsWith('text/event-stream'));
  const body = await res.text();
  const events = body.split('\n\n').filter((e) => e.trim()).map((e) => JSON.parse(e.replace(/^data: /, '')));
  const deltas = events.filter((e) => e.type === 'speech.audio.delta');
  const done = events[events.length - 1];
  check('sse deltas', deltas.length > 1, `${deltas.length} deltas`);
  check('sse ends with speech.audio.done and usage', done.type === 'speech.audio.done' && Number.isInteger(done.usage.total_tokens));
  writeFileSync(`${outdir}/sse.wav`, Buffer.concat(deltas.map((d) => Buffer.from(d.audio, 'base64'))));
}

// errors surface as the SDK's classes with our message
const expectError = async (what, cls, status, body, pattern) => {
  try {
    await client.audio.speech.create(body);
    check(what, false, 'no error');
  } catch (e) {
    check(what, e instanceof cls && e.status === status && pattern.test(e.message),
          `${e.constructor.name} ${e.status} ${e.message}`);
    return e;
  }
};
const bad = await expectError('bad voice is a BadRequestError', OpenAI.BadRequestError, 400,
  { model: 'tts-1', voice: 'no-such-voice', input: text }, /^400 unknown voice 'no-such-voice'/);
check('bad voice: code and param', bad && bad.code === 'invalid_value' && bad.param === 'voice' && /^req_/.test(bad.requestID));
await expectError('bad speed is a BadRequestError', OpenAI.BadRequestError, 400,
  { model: 'tts-1', voice: 'alloy', input: text, speed: 12 }, /speed 12 is out of range/);
await expectError('unknown model is a NotFoundError', OpenAI.NotFoundError, 404,
  { model: 'no-such-model', voice: 'alloy', input: text }, /unknown backend 'no-such-model'/);
const wrong = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'wrong-key', maxRetries: 0 });
try {
  await wrong.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: text });
  check('wrong key is an AuthenticationError', false, 'no error');
} catch (e) {
  check('wrong key is an AuthenticationError', e instanceof OpenAI.AuthenticationError && e.code === 'invalid_api_key', `${e.constructor.name} ${e.message}`);
}
// models.list through the SDK
const models = [];
for await (const m of client.models.list()) models.push(m.id);
check('models.list', models.includes('tts-1') && models.includes('espeak'), models.join(','));

process.exit(failed ? 1 : 0);
