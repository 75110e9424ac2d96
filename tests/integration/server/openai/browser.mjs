// browser.mjs — the web page of `chorus serve` in a real browser (Debian's chromium, headless,
// driven by playwright-core): pickers fill from the API, Generate streams and plays, words get
// highlighted, time to first audio is shown; a screenshot is saved. Then, from that page, a
// cross-origin request (127.0.0.1 → localhost, so the browser enforces CORS with a preflight)
// with Kokoro-FastAPI's voice and pause tags, decoded by the browser's own decoder.
// usage: node browser.mjs BASE_URL OUT.png CHROMIUM
import { chromium } from 'playwright-core';

const [base, shot, exe] = process.argv.slice(2);
let failed = 0;
const check = (what, cond, detail = '') => {
  console.log(`${cond ? 'ok' : 'FAIL'}: ${what}${detail ? ' (' + detail + ')' : ''}`);
  if (!cond) failed++;
};
const browser = await chromium.launch({
  executablePath: exe,
  headless: true,
  args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--use-fake-device-for-media-stream'],
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(base + '/');
  await page.waitForSelector('body[data-state="ready"]', { timeout: 15000 });
  const backends = await page.$$eval('#backend option', (o) => o.map((x) => x.value));
  check('backend picker filled from /v1/backends', backends.includes('espeak'), backends.join(','));
  const voices = await page.$$eval('#voice option', (o) => o.length);
  check('voice picker filled from /v1/audio/voices', voices > 10, `${voices} voices`);
  const formats = await page.$$eval('#format option', (o) => o.map((x) => x.value));
  check('format picker lists wav and pcm', formats.includes('wav') && formats.includes('pcm'), formats.join(','));
  await page.fill('#text', 'Hello from a real browser. Every word should light up as it is spoken, one after another.');
  await page.click('#go');
  // while it plays, a word is highlighted at some point
  let lit = false;
  for (let i = 0; i < 200 && !lit; i++) {
    lit = await page.$('#words span.on') !== null;
    if (!lit) await page.waitForTimeout(25);
  }
  await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 30000 });
  const stats = await page.evaluate(() => window.chorusStats);
  check('generation finished without error', stats.done && !stats.error, JSON.stringify(stats));
  check('audio data arrived', stats.chunks > 0 && stats.bytes > 24000, `${stats.chunks} chunks, ${stats.bytes} bytes`);
  check('time to first audio measured', typeof stats.ttfa === 'number' && stats.ttfa >= 0, `${stats.ttfa} ms`);
  check('words came with timestamps', stats.words >= 10, `${stats.words} words`);
  check('a word was highlighted during playback', lit);
  const status = await page.textContent('#status');
  check('status shows time to first audio', /time to first audio \d+ ms/.test(status), status);
  await page.screenshot({ path: shot, fullPage: true });

  // CORS and voice tags: the server runs with --cors '*'
  const other = base.replace('127.0.0.1', 'localhost');
  const cross = await page.evaluate(async (url) => {
    const speak = async (input) => {
      const r = await fetch(url + '/v1/audio/speech', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer unused' },
        body: JSON.stringify({ input, voice: 'en-us', response_format: 'wav', allow_voice_tags: true }),
      });
      const buf = await r.arrayBuffer();
      const ctx = new OfflineAudioContext(1, 1, 24000);
      const audio = await ctx.decodeAudioData(buf);
      return { status: r.status, voice: r.headers.get('x-chorus-voice'), seconds: audio.duration };
    };
    try {
      return { plain: await speak('One two three.'), tagged: await speak('One [voice:en-gb] two [pause:1.5s] three.') };
    } catch (e) {
      return { error: String(e) };
    }
  }, other);
  check('a cross-origin request passes CORS', !cross.error && cross.tagged.status === 200, JSON.stringify(cross));
  if (!cross.error) {
    check('an exposed header is readable cross-origin', cross.plain.voice === 'en-us', cross.plain.voice);
    const gap = cross.tagged.seconds - cross.plain.seconds;
    check('voice tags: the pause is added and the tags are not spoken', gap > 1.2 && gap < 2.4,
          `${cross.tagged.seconds.toFixed(2)} s vs ${cross.plain.seconds.toFixed(2)} s`);
  }
  check('no script errors', errors.length === 0, errors.join('; '));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
