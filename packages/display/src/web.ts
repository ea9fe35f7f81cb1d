/**
 * The guest's screen in a browser: an HTTP server (node:http) serving one
 * self-contained page (web-page.ts) and a WebSocket endpoint (`ws`) at /ws.
 *
 * Server -> page, binary: a frame, WEB_FRAME_HEADER_BYTES of header (u32
 * little-endian: frame number, width, height, format 0 = XRGB8888) and then
 * `height` rows of `width * 4` bytes B, G, R, X (the stride dropped).
 * Flow control: a page gets a frame only once it has acknowledged the
 * previous one (`{"type":"ack"}` after drawing it); frames shown meanwhile
 * are dropped for it, and it gets the newest when it acknowledges. A slow
 * or stalled page never holds up show(), and so never the guest.
 *
 * Page -> server, text, one JSON object a message (WebMessage): pointer
 * moves, buttons, wheel steps and keys, turned into the evdev reports the
 * SDL window produces; "stop" sets `closed` (the user's "close the window").
 * Anything else is ignored and counted (`ignoredMessages`).
 *
 * Access: a random token per display (`token`, in `url`), required on the
 * page (`/?token=...`) and on the WebSocket upgrade (`/ws?token=...`),
 * compared in constant time; without it the page is a 403 page that says
 * so, and the upgrade is refused. Host must be a name of the address
 * listened on (its own name or address; on loopback the loopback names;
 * on 0.0.0.0 or :: also this machine's addresses and host name), with the
 * port: a DNS-rebinding page is refused. A WebSocket must carry an Origin
 * that is the page's own (Host's).
 *
 * Limits: at most `maxViewers` pages at once (more are refused with 503);
 * the oldest drives (its input reaches the guest, its stop stops) and the
 * others watch (told by `{"type":"role","role":"watcher"}`), the next
 * oldest driving when it goes; a page's queued input is at most
 * WEB_MAX_QUEUED_EVENTS (pointer moves coalesced, the oldest reports
 * dropped and counted in `inputDropped`); a page that sends more than
 * WEB_MAX_MESSAGES_PER_FRAME messages between two takeInput() calls is not
 * read again until the next one (TCP holds the rest); messages over
 * WEB_MAX_PAYLOAD end the connection. So a slow or hostile page holds a
 * bounded amount of host memory and main-thread time, and never the guest.
 * A page closing changes nothing for the guest (keys and buttons it held
 * are released).
 *
 * `ws` is loaded when the first WebDisplay starts, not when this package is
 * imported.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { isIP, type AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { checkFrame, type Display, type Frame, type InputEvent } from './display.js';
import {
  EV_KEY, EV_SYN, KEY_RELEASED, SYN_REPORT, browserButtonEvents, browserKeyEvents, browserWheelEvents,
  linuxButtonFromBrowserButton, linuxKeyFromBrowserCode, positionEvents,
} from './evdev.js';
import { fitRect } from './sdl.js';
import { webPage } from './web-page.js';

type WsModule = typeof import('ws');

let wsModule: WsModule | undefined;

function loadWs(): WsModule {
  wsModule ??= createRequire(import.meta.url)('ws') as WsModule;
  return wsModule;
}

/** Bytes before the pixels of a frame message. */
export const WEB_FRAME_HEADER_BYTES = 16;
/** The format word of a frame message: XRGB8888, bytes B, G, R, X. */
export const WEB_FRAME_XRGB8888 = 0;
/** Where the page connects its WebSocket. */
export const WEB_SOCKET_PATH = '/ws';
/** Longest message from a page that is read (longer: ignored); far longer ones end the connection. */
export const WEB_MAX_MESSAGE = 1024;
/** Messages longer than this end the connection (WebSocket close 1009). */
export const WEB_MAX_PAYLOAD = 64 * 1024;
/** Largest wheel step count in one message. */
export const WEB_MAX_WHEEL_STEPS = 100;
/** Pages connected at once, by default: one drives, the others watch. */
export const WEB_MAX_VIEWERS = 8;
/** Input events a page may have queued for the guest; beyond, the oldest reports are dropped. */
export const WEB_MAX_QUEUED_EVENTS = 256;
/** Messages read from a page between two takeInput() calls (frames); then it is not read until the next. */
export const WEB_MAX_MESSAGES_PER_FRAME = 512;
/** Open TCP connections the server keeps (pages, page loads); more are closed at once. */
const MAX_CONNECTIONS = 64;

/** What a page may send (text, JSON). Positions are CSS pixels in the canvas element (w x h). */
export type WebMessage =
  | { type: 'ack' }
  | { type: 'stop' }
  | { type: 'move'; x: number; y: number; w: number; h: number }
  /** The position is optional: a button let go outside the page has none. */
  | { type: 'button'; button: number; down: boolean; x?: number; y?: number; w?: number; h?: number }
  | { type: 'wheel'; dx: number; dy: number }
  | { type: 'key'; code: string; down: boolean; repeat?: boolean };

/** What the server tells a page besides frames (text, JSON): whether its input reaches the guest. */
export interface WebRoleMessage {
  type: 'role';
  role: 'driver' | 'watcher';
}

export interface WebDisplayOptions {
  /** The address to listen on; default 127.0.0.1 (this machine only). */
  host?: string;
  /** The TCP port; default 0: a free one (see `port`, `url`). */
  port?: number;
  /** The access token pages must present; default 32 random bytes, base64url. */
  token?: string;
  /** More names (or addresses) Host may carry, besides those of `host`. */
  hostNames?: string[];
  /** Pages at once; default WEB_MAX_VIEWERS. */
  maxViewers?: number;
  /** Called once when a page asks to stop (not by close()). */
  onClose?: () => void;
}

/** Why a WebDisplay cannot start: `code` is Node's (EADDRINUSE, EACCES, EADDRNOTAVAIL, ENOTFOUND ...). */
export class WebDisplayError extends Error {
  override name = 'WebDisplayError';
  constructor(
    readonly host: string,
    readonly port: number,
    readonly code: string,
    reason: string,
  ) {
    super(`cannot serve the screen on ${hostPort(host, port)}: ${reason}`);
  }
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'the address is in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'no such address on this machine',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'unknown host',
};

/** A frame message, possibly still being written to some sockets. */
interface Packet {
  data: Buffer;
  /** Frame number (counts show() calls from 0). */
  n: number;
  /** Sends not yet written out: while > 0 the buffer must not be reused. */
  inFlight: number;
}

interface Client {
  socket: WebSocket;
  /** A frame was sent and not yet acknowledged. */
  waiting: boolean;
  /** The number of the last frame sent. */
  sentN: number;
  /** EV_KEY codes (keys, buttons) this page holds down: released when it goes. */
  held: Set<number>;
  /** Its input not yet taken, a report (events ending in SYN_REPORT) an entry. */
  queue: InputEvent[][];
  /** Events in `queue`. */
  queued: number;
  /** The last report queued is a pointer position (the next one replaces it). */
  lastIsMove: boolean;
  /** Messages read since the last takeInput(). */
  messages: number;
  paused: boolean;
}

/** Pages whose socket already holds this much unsent are not sent frames. */
const BACKLOG_BYTES = 64 * 1024;

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);
const UNSPECIFIED = new Set(['0.0.0.0', '::']);

/** A screen in web pages: see the module comment. Start it with WebDisplay.start(). */
export class WebDisplay implements Display {
  /** Called once when a page asks to stop; may be set after start. */
  onClose: (() => void) | undefined;
  /** Messages from pages that were not understood (malformed, unknown, too long, binary). */
  ignoredMessages = 0;
  /** Frames sent to pages, and frames a page missed because it had not acknowledged the last one. */
  framesSent = 0;
  framesDropped = 0;
  /** Input events dropped because a page queued more than WEB_MAX_QUEUED_EVENTS. */
  inputDropped = 0;
  /** Requests and upgrades refused: no or a wrong token, a foreign Host or Origin, too many pages. */
  refused = 0;

  /** In the order they came: the first drives. */
  private readonly clients = new Set<Client>();
  /** Releases of what departed pages held. */
  private released: InputEvent[] = [];
  private upgrading = 0;
  private readonly tokenDigest: Buffer;
  private readonly hostNames: Set<string>;
  private isClosed = false;
  private ended = false;
  private latest: Packet | undefined;
  private shown = 0;
  private size = { width: 640, height: 480 };
  private lastX = -1;
  private lastY = -1;

  private constructor(
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    /** The address as asked for (a name stays a name). */
    readonly host: string,
    /** The port listened on (the real one when 0 was asked for). */
    readonly port: number,
    /** What pages must present: in `url`. */
    readonly token: string,
    hostNames: string[],
    readonly maxViewers: number,
  ) {
    this.tokenDigest = digest(token);
    this.hostNames = allowedHostNames(host, hostNames);
    server.on('request', (req, res) => this.request(req, res));
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    // After listening: an accept() that fails (EMFILE) must not end the process.
    server.on('error', () => {});
  }

  /** Listens on host:port; rejects with a WebDisplayError. */
  static async start(options: WebDisplayOptions = {}): Promise<WebDisplay> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new WebDisplayError(host, port, 'EINVAL', 'the port must be 0..65535');
    const token = options.token ?? randomBytes(32).toString('base64url');
    if (token.length === 0) throw new WebDisplayError(host, port, 'EINVAL', 'the token must not be empty');
    const maxViewers = options.maxViewers ?? WEB_MAX_VIEWERS;
    if (!Number.isInteger(maxViewers) || maxViewers < 1) throw new WebDisplayError(host, port, 'EINVAL', 'maxViewers must be at least 1');
    const ws = loadWs();
    const server = createServer({ headersTimeout: 10_000, requestTimeout: 10_000, maxHeaderSize: 8192 });
    server.maxConnections = MAX_CONNECTIONS;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      server.close();
      const code = (e as { code?: string }).code ?? 'EIO';
      throw new WebDisplayError(host, port, code, REASONS[code] ?? (e instanceof Error ? e.message : String(e)));
    }
    const wss = new ws.WebSocketServer({ noServer: true, maxPayload: WEB_MAX_PAYLOAD, perMessageDeflate: false, clientTracking: false });
    const display = new WebDisplay(server, wss, host, (server.address() as AddressInfo).port, token, options.hostNames ?? [], maxViewers);
    display.onClose = options.onClose;
    return display;
  }

  /** The page's address with its token, for a browser on this machine. */
  get url(): string {
    // An unspecified address listens on all of them: loopback is one.
    const host = this.host === '0.0.0.0' ? '127.0.0.1' : this.host === '::' ? '::1' : this.host;
    return `http://${hostPort(host, this.port)}/?token=${encodeURIComponent(this.token)}`;
  }

  /** Listening on loopback only: no other machine can reach the page. */
  get loopbackOnly(): boolean {
    return isLoopback(this.host);
  }

  /** Input events queued for the guest now (all pages). */
  get queuedEvents(): number {
    let n = this.released.length;
    for (const c of this.clients) n += c.queued;
    return n;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Pages connected now. */
  get viewers(): number {
    return this.clients.size;
  }

  /**
   * Sends the frame to every page that has drawn the last one it got; the
   * others miss it. Copies what it sends: the guest may draw on.
   */
  show(frame: Frame): void {
    checkFrame(frame);
    if (this.ended) return;
    this.size = { width: frame.width, height: frame.height };
    this.latest = this.pack(frame);
    for (const c of this.clients) {
      if (!this.send(c)) this.framesDropped++;
    }
  }

  /** The input queued since the last call, reports whole; pages paused for sending too much are read again. */
  takeInput(): InputEvent[] {
    const out = this.released;
    this.released = [];
    for (const c of this.clients) {
      for (const r of c.queue) for (const e of r) out.push(e);
      c.queue = [];
      c.queued = 0;
      c.lastIsMove = false;
      c.messages = 0;
      if (c.paused) {
        c.paused = false;
        c.socket.resume();
      }
    }
    return out;
  }

  /** Stops serving: pages see the connection end ("the guest has stopped"). */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.isClosed = true;
    this.server.close();
    for (const c of this.clients) c.socket.close(1001, 'the guest has stopped');
    // Pages that do not answer the closing handshake are cut off.
    const timer = setTimeout(() => {
      for (const c of this.clients) c.socket.terminate();
      this.server.closeAllConnections();
    }, 1000);
    timer.unref();
    this.server.closeIdleConnections();
  }

  /** The frame as a message, in the newest packet's buffer unless a socket still holds that. */
  private pack(frame: Frame): Packet {
    const { width, height, stride, pixels } = frame;
    const bytes = WEB_FRAME_HEADER_BYTES + width * height * 4;
    const reuse = this.latest !== undefined && this.latest.inFlight === 0 && this.latest.data.length === bytes;
    const data = reuse ? this.latest!.data : Buffer.allocUnsafe(bytes);
    const n = this.shown++;
    data.writeUInt32LE(n >>> 0, 0);
    data.writeUInt32LE(width, 4);
    data.writeUInt32LE(height, 8);
    data.writeUInt32LE(WEB_FRAME_XRGB8888, 12);
    const row = width * 4;
    if (stride === row) {
      data.set(pixels.subarray(0, row * height), WEB_FRAME_HEADER_BYTES);
    } else {
      for (let y = 0; y < height; y++) data.set(pixels.subarray(y * stride, y * stride + row), WEB_FRAME_HEADER_BYTES + y * row);
    }
    return { data, n, inFlight: 0 };
  }

  /** Sends the newest frame to a page that is ready for it; false if it is not. */
  private send(c: Client): boolean {
    const p = this.latest;
    if (p === undefined || c.waiting || c.socket.readyState !== c.socket.OPEN || c.socket.bufferedAmount > BACKLOG_BYTES) return false;
    if (c.sentN === p.n) return true;
    c.waiting = true;
    c.sentN = p.n;
    p.inFlight++;
    c.socket.send(p.data, { binary: true }, () => p.inFlight--);
    this.framesSent++;
    return true;
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    if (!this.hostAllowed(req)) {
      this.refused++;
      return void res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden host\n');
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/' && path !== '/index.html') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return void res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    }
    if (!this.tokenAllowed(req)) {
      this.refused++;
      const page = Buffer.from(FORBIDDEN_PAGE, 'utf8');
      return void res.writeHead(403, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': page.length,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      }).end(req.method === 'HEAD' ? undefined : page);
    }
    const body = Buffer.from(webPage(), 'utf8');
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': body.length,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy':
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:; frame-ancestors 'none'",
      // The token is in the address: not to be sent on to anywhere.
      'referrer-policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (this.ended) return refuse('503 Service Unavailable');
    if ((req.url ?? '').split('?')[0] !== WEB_SOCKET_PATH) return refuse('404 Not Found');
    // Another site's page in the same browser, or a program without the token, must not watch or drive the guest.
    if (!this.hostAllowed(req) || !originAllowed(req) || !this.tokenAllowed(req)) {
      this.refused++;
      return refuse('403 Forbidden');
    }
    if (this.clients.size + this.upgrading >= this.maxViewers) {
      this.refused++;
      return refuse('503 Service Unavailable');
    }
    this.upgrading++;
    let done = false;
    const finish = () => {
      if (!done) this.upgrading--;
      done = true;
    };
    // A handshake that fails (a bad key) never calls back: the socket closing ends it.
    socket.once('close', finish);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      finish();
      this.connected(ws);
    });
  }

  /** The token in the query (`?token=`), compared in constant time (digests of equal length). */
  private tokenAllowed(req: IncomingMessage): boolean {
    let given: string | null;
    try {
      given = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
    } catch {
      return false;
    }
    return given !== null && timingSafeEqual(digest(given), this.tokenDigest);
  }

  /**
   * Host must be a name of the address listened on, with its port: a DNS
   * rebinding page (evil.example resolving to this machine) is refused.
   */
  private hostAllowed(req: IncomingMessage): boolean {
    const header = req.headers.host;
    if (header === undefined) return false;
    let name: string;
    let port: string;
    try {
      const u = new URL(`http://${header}`);
      name = u.hostname.replace(/^\[(.*)\]$/, '$1');
      port = u.port;
    } catch {
      return false;
    }
    return this.hostNames.has(name.toLowerCase()) && (port === '' ? '80' : port) === String(this.port);
  }

  private connected(socket: WebSocket): void {
    if (this.ended) return socket.terminate();
    const c: Client = { socket, waiting: false, sentN: -1, held: new Set(), queue: [], queued: 0, lastIsMove: false, messages: 0, paused: false };
    this.clients.add(c);
    socket.on('message', (data, isBinary) => this.message(c, data, isBinary));
    // A protocol error (a message beyond maxPayload, bad framing): ws closes the connection.
    socket.on('error', () => this.ignoredMessages++);
    socket.on('close', () => {
      const drove = this.driver() === c;
      this.clients.delete(c);
      // What it queued and had not been taken goes with it; what it held is let go.
      for (const code of c.held) this.released.push({ type: EV_KEY, code, value: KEY_RELEASED }, { type: EV_SYN, code: SYN_REPORT, value: 0 });
      c.held.clear();
      const next = this.driver();
      if (drove && next !== undefined) tell(next, 'driver');
    });
    tell(c, this.driver() === c ? 'driver' : 'watcher');
    // A page that comes in gets the screen as it is.
    this.send(c);
  }

  /** The page whose input reaches the guest: the oldest. */
  private driver(): Client | undefined {
    for (const c of this.clients) return c;
    return undefined;
  }

  private message(c: Client, data: WsData, isBinary: boolean): void {
    // A page sending faster than frames are shown waits for the next one (TCP holds what it sends meanwhile).
    if (++c.messages >= WEB_MAX_MESSAGES_PER_FRAME && !c.paused) {
      c.paused = true;
      c.socket.pause();
    }
    const m = isBinary ? undefined : parseMessage(asText(data));
    if (m === undefined) {
      this.ignoredMessages++;
      return;
    }
    // Watchers are sent frames; their input and stop go nowhere.
    if (m.type !== 'ack' && this.driver() !== c) return;
    switch (m.type) {
      case 'ack':
        c.waiting = false;
        // Frames came while it drew: it gets the newest now.
        this.send(c);
        break;
      case 'stop':
        if (!this.isClosed) {
          this.isClosed = true;
          this.onClose?.();
        }
        break;
      case 'move':
        this.pointer(c, m);
        break;
      case 'button': {
        if (m.x !== undefined) this.pointer(c, m as Required<typeof m>);
        hold(c, linuxButtonFromBrowserButton(m.button), m.down);
        this.queue(c, browserButtonEvents(m.button, m.down), false);
        break;
      }
      case 'wheel':
        this.queue(c, browserWheelEvents(m.dx, m.dy), false);
        break;
      case 'key': {
        hold(c, linuxKeyFromBrowserCode(m.code), m.down);
        this.queue(c, browserKeyEvents(m.code, m.down ? (m.repeat ? 'repeat' : 'down') : 'up'), false);
        break;
      }
    }
  }

  /** Queues the pointer position (CSS pixels in a w x h canvas showing the frame fitted) as framebuffer pixels, when it changed. */
  private pointer(c: Client, m: { x: number; y: number; w: number; h: number }): void {
    const { width, height } = this.size;
    const rect = fitRect(width, height, m.w, m.h);
    const x = clamp(Math.floor(((m.x - rect.x) * width) / rect.width), 0, width - 1);
    const y = clamp(Math.floor(((m.y - rect.y) * height) / rect.height), 0, height - 1);
    if (x === this.lastX && y === this.lastY) return;
    this.lastX = x;
    this.lastY = y;
    this.queue(c, positionEvents(x, y), true);
  }

  /**
   * Adds a report to a page's queue: a move right after a move replaces it
   * (the guest sees where the pointer is, not every step); past
   * WEB_MAX_QUEUED_EVENTS the oldest reports go, counted in inputDropped.
   */
  private queue(c: Client, report: InputEvent[], move: boolean): void {
    if (report.length === 0) return;
    if (move && c.lastIsMove) {
      const last = c.queue.pop()!;
      c.queued -= last.length;
    }
    c.queue.push(report);
    c.queued += report.length;
    c.lastIsMove = move;
    while (c.queued > WEB_MAX_QUEUED_EVENTS) {
      const old = c.queue.shift()!;
      c.queued -= old.length;
      this.inputDropped += old.length;
    }
  }
}

/** Tells a page whether its input reaches the guest. */
function tell(c: Client, role: WebRoleMessage['role']): void {
  if (c.socket.readyState === c.socket.OPEN) c.socket.send(JSON.stringify({ type: 'role', role } satisfies WebRoleMessage));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The names Host may carry: the address listened on as given; on loopback
 * the loopback names; on an unspecified address (every address) also this
 * machine's addresses and host name; and any given.
 */
function allowedHostNames(host: string, extra: string[]): Set<string> {
  const bare = (h: string) => h.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const names = new Set<string>([bare(host), ...extra.map(bare)]);
  if (isLoopback(host) || UNSPECIFIED.has(bare(host))) for (const n of LOOPBACK_NAMES) names.add(n);
  if (UNSPECIFIED.has(bare(host))) {
    names.delete(bare(host));
    names.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(bare(a.address.split('%')[0]!));
  }
  return names;
}

/** Notes what a page holds down, to let it go if the page goes. */
function hold(c: Client, code: number | undefined, down: boolean): void {
  if (code === undefined) return;
  if (down) c.held.add(code);
  else c.held.delete(code);
}

type WsData = Buffer | ArrayBuffer | Buffer[];

function asText(data: WsData): string | undefined {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
  return bytes.length > WEB_MAX_MESSAGE ? undefined : bytes.toString('utf8');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCoord = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 1e6;
const isExtent = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 1 && v <= 1e6;
const isSteps = (v: unknown): v is number => Number.isInteger(v) && Math.abs(v as number) <= WEB_MAX_WHEEL_STEPS;

/** A page's message, checked field by field; undefined if it is not one. Exported for tests. */
export function parseMessage(text: string | undefined): WebMessage | undefined {
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(v)) return undefined;
  const position = isCoord(v.x) && isCoord(v.y) && isExtent(v.w) && isExtent(v.h);
  switch (v.type) {
    case 'ack':
    case 'stop':
      return { type: v.type };
    case 'move':
      return position ? { type: 'move', x: v.x as number, y: v.y as number, w: v.w as number, h: v.h as number } : undefined;
    case 'button': {
      const none = v.x === undefined && v.y === undefined && v.w === undefined && v.h === undefined;
      if (!(position || none) || !Number.isInteger(v.button) || (v.button as number) < 0 || (v.button as number) > 31 || typeof v.down !== 'boolean') return undefined;
      const at = position ? { x: v.x as number, y: v.y as number, w: v.w as number, h: v.h as number } : {};
      return { type: 'button', button: v.button as number, down: v.down, ...at };
    }
    case 'wheel':
      return isSteps(v.dx) && isSteps(v.dy) ? { type: 'wheel', dx: v.dx, dy: v.dy } : undefined;
    case 'key':
      if (typeof v.code !== 'string' || v.code.length > 64 || typeof v.down !== 'boolean') return undefined;
      if (v.repeat !== undefined && typeof v.repeat !== 'boolean') return undefined;
      return { type: 'key', code: v.code, down: v.down, ...(v.repeat === true && { repeat: true }) };
    default:
      return undefined;
  }
}

/** A browser sends Origin on WebSocket requests: it must be there, and be this server's own page (Host, checked already). */
function originAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host === req.headers.host?.toLowerCase();
  } catch {
    return false;
  }
}

/** The page a request without the token gets (403). */
const FORBIDDEN_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>kvmos: forbidden</title>
<style>body { margin: 2em; background: #000; color: #ccc; font: 16px system-ui, sans-serif; } code { color: #fff; }</style>
</head>
<body>
<h1>403: this page needs its token</h1>
<p>The guest's screen is shown only at the address kvmos printed when it started,
<code>http://HOST:PORT/?token=...</code>, token included. Open that one.</p>
</body>
</html>
`;

/** Listening on this address, only this machine can connect. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return LOOPBACK_NAMES.has(bare) || (isIP(bare) === 4 && bare.startsWith('127.'));
}

/** host:port, with brackets around an IPv6 address. */
export function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
