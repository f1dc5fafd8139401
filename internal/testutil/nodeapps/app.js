// An Express application as people deploy it, with the mistakes the
// gateway must cover. MODE selects the variant:
//   bare         express() and nothing else
//   helmet       helmet() with its defaults
//   helmet-cors  helmet(), cors() and an error handler that hides details
// NODE_ENV=development gives Express's default error page with the stack.
// PORT is the loopback port to listen on; "ready <port>" is printed on stdout.
// TLS_CERT and TLS_KEY (PEM files), when both are set, serve HTTPS instead.
// Every variant parses JSON bodies (express.json()), as most apps do, so a
// malformed body reaches the error handler: Express's own page (with the
// stack in development) unless MODE has one.
'use strict';

const fs = require('fs');
const express = require('express');

const mode = process.env.MODE || 'bare';
const app = express();

if (mode === 'helmet' || mode === 'helmet-cors') {
  app.use(require('helmet')());
}
if (mode === 'helmet-cors') {
  app.use(require('cors')({ origin: 'https://app.example.com', credentials: true }));
}
app.use(express.json());

app.get('/', (req, res) => {
  const nonce = req.get('X-Rampart-CSP-Nonce') || '';
  res.type('html').send(`<!doctype html><html lang="en"><head><title>shop</title></head>` +
    `<body><h1>shop</h1><script nonce="${nonce}">document.body.dataset.ok = "1";</script></body></html>`);
});
app.get('/nonce', (req, res) => res.json({ nonce: req.get('X-Rampart-CSP-Nonce') || null }));
app.get('/json', (req, res) => res.json({ ok: true }));
app.get('/headers', (req, res) => {
  // Weaker values an application might set itself.
  res.set('X-Frame-Options', 'ALLOWALL');
  res.set('Server', 'Express/4 (Ubuntu)');
  res.set('X-Runtime', '0.042');
  res.set('X-Debug-Token', 'abc123');
  res.json({ ok: true });
});
app.get('/throw', () => {
  throw new Error('payment backend rejected card 4111111111111111 for user alice');
});
app.get('/stack', (req, res) => {
  const err = new TypeError("Cannot read properties of undefined (reading 'id')");
  res.status(500).json({ message: err.message, stack: err.stack });
});
app.get('/sql', (req, res) => {
  res.status(400).json({
    error: "ER_PARSE_ERROR: You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''' at line 1",
    sql: "SELECT * FROM users WHERE name = ''' AND password = 'hunter2'",
  });
});
app.get('/python', (req, res) => {
  res.status(400).type('text/plain').send('Traceback (most recent call last):\n' +
    '  File "/srv/app/views.py", line 14, in index\n' +
    '    user = User.objects.get(pk=pk)\n' +
    'DoesNotExist: User matching query does not exist.\n');
});
app.get('/gopanic', (req, res) => {
  res.status(502).type('text/plain').send('panic: runtime error: invalid memory address or nil pointer dereference\n' +
    '[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6a1b2c]\n\n' +
    'goroutine 18 [running]:\nmain.handler(0xc000010000)\n\t/home/deploy/api/main.go:27 +0x1d\n');
});
app.get('/session', (req, res) => {
  // Cookies as express-session and a "remember me" feature set them by
  // default: no Secure, no SameSite, no __Host- prefix, ten years.
  res.cookie('connect.sid', 's:' + require('crypto').randomBytes(16).toString('hex'), { httpOnly: true, path: '/' });
  res.cookie('remember_me', '1', { maxAge: 10 * 365 * 24 * 3600 * 1000 });
  res.type('html').send('<!doctype html><html lang="en"><head><title>session</title></head><body>signed in</body></html>');
});
app.post('/login', (req, res) => res.status(401).json({ error: 'invalid credentials' }));
app.get('/bad-request', (req, res) => res.status(400).json({ error: 'quantity must be a positive integer' }));

if (mode === 'helmet-cors') {
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => res.status(500).json({ error: 'internal error' }));
}

const server = process.env.TLS_CERT && process.env.TLS_KEY
  ? require('https').createServer({ cert: fs.readFileSync(process.env.TLS_CERT), key: fs.readFileSync(process.env.TLS_KEY) }, app)
  : require('http').createServer(app);
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
