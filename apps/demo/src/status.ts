/**
 * The server's status page (`GET /` in a browser): polls `/status.json` and draws counters,
 * transports, a rate chart and the largest rooms. Names need loopback or the admin token, which
 * the page keeps in sessionStorage and sends as a bearer token.
 */
import type { StatusDocument, StatusRoom } from '@switchyard/server';

const POLL_MS = 2000;
/** Two minutes of samples at one per poll. */
const CHART_POINTS = 60;
const TOKEN_KEY = 'switchyard-admin-token';

const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`status page: #${id} is missing`);
  return element as T;
};

const history: Array<StatusDocument['rates']> = [];
let timer: ReturnType<typeof setTimeout> | undefined;

function text(id: string, value: string | number): void {
  byId(id).textContent = String(value);
}

function cell(row: HTMLTableRowElement, content: string | Node): HTMLTableCellElement {
  const td = row.insertCell();
  td.append(content);
  return td;
}

function uptime(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

function breakdown(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .map(([transport, count]) => `${transport} ${count}`)
    .join(', ');
}

function chip(member: StatusRoom['members'][number]): HTMLElement {
  const element = document.createElement('span');
  element.className = `chip ${member.state}`;
  element.textContent = `${member.id ?? 'peer'} · ${member.transport}`;
  element.title = member.state === 'grace' ? 'disconnected, inside its grace window' : 'connected';
  if (member.id !== undefined) element.dataset['peerId'] = member.id;
  return element;
}

function drawRooms(status: StatusDocument): void {
  const body = byId<HTMLTableElement>('rooms').tBodies[0]!;
  body.replaceChildren();
  status.rooms.forEach((room, index) => {
    const row = body.insertRow();
    if (room.name !== undefined) row.dataset['room'] = room.name;
    cell(row, room.name ?? `room ${index + 1}`);
    cell(row, String(room.size));
    cell(row, breakdown(room.transports));
    const members = cell(row, '');
    for (const member of room.members) members.append(chip(member));
    if (room.size > room.members.length)
      members.append(` and ${room.size - room.members.length} more`);
  });
  if (status.rooms.length === 0) cell(body.insertRow(), 'no rooms yet').colSpan = 4;
  const notes = [];
  if (status.moreRooms > 0)
    notes.push(`the ${status.rooms.length} largest; ${status.moreRooms} more`);
  if (!status.names) notes.push('names hidden');
  text('rooms-note', notes.length > 0 ? `(${notes.join('; ')})` : '');
}

function drawTransports(status: StatusDocument): void {
  const body = byId<HTMLTableElement>('transports').tBodies[0]!;
  body.replaceChildren();
  for (const [transport, count] of Object.entries(status.transports)) {
    const row = body.insertRow();
    row.dataset['transport'] = transport;
    cell(row, transport);
    cell(row, String(count));
  }
}

function drawChart(): void {
  const peak = Math.max(
    1,
    ...history.map((rates) => Math.max(rates.messagesIn, rates.messagesOut)),
  );
  const points = (key: 'messagesIn' | 'messagesOut') =>
    history
      .map((rates, index) => {
        // newest at the right edge, so the chart scrolls left as samples arrive
        const x = 240 - ((history.length - 1 - index) / (CHART_POINTS - 1)) * 240;
        const y = 58 - (rates[key] / peak) * 56;
        return `${x.toFixed(1)},${y.toFixed(1)}`;
      })
      .join(' ');
  byId('chart-in').setAttribute('points', points('messagesIn'));
  byId('chart-out').setAttribute('points', points('messagesOut'));
  byId('chart').setAttribute('aria-label', `peak ${peak} messages per second`);
}

function draw(status: StatusDocument): void {
  const { stats, rates } = status;
  text('version', `${status.version} · up ${uptime(status.uptimeSeconds)}`);
  text('connections', stats.connections);
  text('rooms-count', stats.rooms);
  text('members', stats.members);
  text('in-grace', stats.inGrace);
  text('rate-in', rates.messagesIn);
  text('rate-out', rates.messagesOut);
  text('auth', `authentication: ${status.auth}`);
  history.push(rates);
  if (history.length > CHART_POINTS) history.shift();
  drawTransports(status);
  drawChart();
  drawRooms(status);
  const admin = byId<HTMLFormElement>('admin');
  admin.hidden = status.names;
  text(
    'admin-why',
    sessionStorage.getItem(TOKEN_KEY)
      ? 'The admin token was not accepted.'
      : 'Room names and peer ids show on the server’s own machine, or with the admin token:',
  );
}

async function poll(): Promise<void> {
  const state = byId('state');
  const token = sessionStorage.getItem(TOKEN_KEY);
  try {
    const response = await fetch('/status.json', {
      cache: 'no-store',
      ...(token && { headers: { authorization: `Bearer ${token}` } }),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    draw((await response.json()) as StatusDocument);
    state.className = 'up';
    state.textContent = `live, updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    state.className = 'down';
    state.textContent = `server unreachable (${(error as Error).message}); retrying`;
  }
  // one timer however many polls overlap (a token submitted mid-poll); a hidden tab polls less
  clearTimeout(timer);
  timer = setTimeout(() => void poll(), document.hidden ? POLL_MS * 5 : POLL_MS);
}

byId<HTMLFormElement>('admin').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = byId<HTMLInputElement>('admin-token').value.trim();
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  void poll();
});

void poll();
