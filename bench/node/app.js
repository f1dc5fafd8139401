// The Express stack the benchmark compares Rampart with: the same checklist
// assembled from the usual middleware, in front of the same upstream.
//
//   UPSTREAM=http://127.0.0.1:PORT PORT=0 node app.js
//
// helmet's headers, CORS for one origin, a double-submit CSRF check on
// unsafe methods (csrf-csrf), a per-IP rate limit in memory
// (express-rate-limit), server-side sessions (express-session, its memory
// store), the path parameter checked with a compiled JSON Schema (ajv), and
// the request proxied (http-proxy-middleware). POST /login starts a session.
// It prints "ready PORT" once it listens.
"use strict";

const crypto = require("node:crypto");
const express = require("express");
const helmet = require("helmet");
const cors = require("cors");
const session = require("express-session");
const cookieParser = require("cookie-parser");
const { doubleCsrf } = require("csrf-csrf");
const { rateLimit } = require("express-rate-limit");
const Ajv = require("ajv");
const { createProxyMiddleware } = require("http-proxy-middleware");
const http = require("node:http");

const upstream = process.env.UPSTREAM;
if (!upstream) {
  console.error("app.js: UPSTREAM is required");
  process.exit(2);
}
const secret = crypto.randomBytes(32).toString("hex");

const app = express();
app.disable("x-powered-by");
app.set("trust proxy", false);
app.use(helmet());
app.use(cors({ origin: "https://app.example", credentials: true }));
app.use(rateLimit({ windowMs: 1000, limit: 1000000, standardHeaders: "draft-8", legacyHeaders: false }));
app.use(session({
  secret,
  name: "sid",
  resave: false,
  saveUninitialized: false,
  rolling: false,
  cookie: { httpOnly: true, sameSite: "lax", secure: false, maxAge: 30 * 60 * 1000 },
}));
app.use(cookieParser());
const { doubleCsrfProtection } = doubleCsrf({
  getSecret: () => secret,
  getSessionIdentifier: (req) => req.session.id,
  cookieName: "csrf",
  cookieOptions: { secure: false, sameSite: "lax" },
});

app.post("/login", (req, res) => {
  req.session.user = "bench";
  res.json({ user: "bench" });
});

app.use(doubleCsrfProtection);
app.use((req, res, next) => {
  if (!req.session.user) {
    res.status(401).json({ error: "unauthorized" });
    return;
  }
  req.headers["x-user"] = req.session.user;
  next();
});

const ajv = new Ajv({ coerceTypes: true });
const checkParams = ajv.compile({
  type: "object",
  properties: { id: { type: "integer", minimum: 0 } },
  required: ["id"],
});
const proxy = createProxyMiddleware({
  target: upstream,
  changeOrigin: false,
  xfwd: true,
  agent: new http.Agent({ keepAlive: true, maxSockets: 256 }),
});
app.get("/api/items/:id", (req, res, next) => {
  const params = { id: req.params.id };
  if (!checkParams(params)) {
    res.status(400).json({ error: "invalid path parameter", details: checkParams.errors });
    return;
  }
  next();
}, proxy);
app.use((req, res) => res.status(404).json({ error: "not found" }));

const server = app.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  console.log("ready " + server.address().port);
});
