// The participant's page of a HYPE∞ realism study: one gesture at a time, drawn as it was performed, answered
// "real" or "generated" by button or key. The session id lives in localStorage, so a reload resumes.
"use strict";

const KEY = "deepnag-realism-session";
const PEN_MS = 1600;      // a pen trace is drawn over this long
const FRAME_MS = 1000 / 30; // a skeleton frame: the recordings' 30 frames a second
const MARGIN = 24;
const $ = (id) => document.getElementById(id);
const state = { session: null, total: 0, practice: 0, next: 0, shownAt: 0, busy: false, sample: null, timer: null };

async function api(method, path, body) {
  const response = await fetch(path, {
    method, headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) { const e = new Error(data.error || response.statusText); e.status = response.status; throw e; }
  return data;
}

function show(id) {
  for (const section of ["intro", "trial", "done"]) $(section).hidden = section !== id;
}

function adopt(progress) {
  Object.assign(state, { session: progress.session, total: progress.total, practice: progress.practice,
                         next: progress.next });
  localStorage.setItem(KEY, progress.session);
}

// The canvas transform fitting every point (of every frame) with equal scales; y flipped unless the data's y is down.
function fitter(points, yDown) {
  const canvas = $("stage");
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const scale = Math.min((canvas.width - 2 * MARGIN) / Math.max(x1 - x0, 1e-9),
                         (canvas.height - 2 * MARGIN) / Math.max(y1 - y0, 1e-9));
  const ox = (canvas.width - scale * (x1 - x0)) / 2, oy = (canvas.height - scale * (y1 - y0)) / 2;
  return (p) => [ox + scale * (p[0] - x0), yDown ? oy + scale * (p[1] - y0) : canvas.height - oy - scale * (p[1] - y0)];
}

function clear(ctx) {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  ctx.strokeStyle = ctx.fillStyle = "#000";
  ctx.lineWidth = 3; ctx.lineCap = ctx.lineJoin = "round";
}

// Pen strokes (and paths) drawn point by point: the first `count` points of the strokes, a dot on the start.
function drawTrace(ctx, strokes, at, count) {
  clear(ctx);
  let left = count;
  for (const stroke of strokes) {
    if (left <= 0) break;
    ctx.beginPath();
    stroke.slice(0, left).forEach((p, i) => { const [x, y] = at(p); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
    ctx.stroke();
    left -= stroke.length;
  }
  const [sx, sy] = at(strokes[0][0]);
  ctx.beginPath(); ctx.arc(sx, sy, 5, 0, 2 * Math.PI); ctx.fill();
}

function drawSkeleton(ctx, joints, bones, at) {
  clear(ctx);
  ctx.beginPath();
  for (const [a, b] of bones) {
    const [ax, ay] = at(joints[a]), [bx, by] = at(joints[b]);
    ctx.moveTo(ax, ay); ctx.lineTo(bx, by);
  }
  ctx.stroke();
  for (const joint of joints) { const [x, y] = at(joint); ctx.beginPath(); ctx.arc(x, y, 3, 0, 2 * Math.PI); ctx.fill(); }
}

// Play the sample from its start; the canvas's data-done is "1" once its last frame is drawn.
function play() {
  const sample = state.sample, canvas = $("stage"), ctx = canvas.getContext("2d");
  if (!sample) return;
  cancelAnimationFrame(state.timer);
  canvas.dataset.done = "0";
  const skeleton = sample.kind === "skeleton";
  const all = skeleton ? sample.frames.flat() : sample.strokes.flat();
  const at = fitter(all, sample.y_down);
  const steps = skeleton ? sample.frames.length : all.length;
  const duration = skeleton ? steps * FRAME_MS : PEN_MS;
  const start = performance.now();
  const frame = (now) => {
    const k = Math.min(steps, Math.max(1, Math.ceil(((now - start) / duration) * steps)));
    if (skeleton) drawSkeleton(ctx, sample.frames[k - 1], sample.bones, at);
    else drawTrace(ctx, sample.strokes, at, k);
    if (k < steps) state.timer = requestAnimationFrame(frame);
    else canvas.dataset.done = "1";
  };
  state.timer = requestAnimationFrame(frame);
}

async function loadTrial() {
  if (state.next >= state.total) { show("done"); return; }
  const trial = await api("GET", `/api/sessions/${state.session}/trials/${state.next}`);
  const scored = state.next - state.practice;
  $("progress").textContent = trial.practice ? `Practice trial ${state.next + 1} of ${state.practice}`
                                             : `Trial ${scored + 1} of ${state.total - state.practice}`;
  $("stage").dataset.trial = String(state.next);
  state.sample = trial.sample;
  state.shownAt = performance.now();
  state.busy = false;
  for (const id of ["real", "generated"]) $(id).disabled = false;
  show("trial");
  play();
}

async function answer(choice) {
  if (state.busy || !state.sample || $("trial").hidden) return;
  state.busy = true;
  for (const id of ["real", "generated"]) $(id).disabled = true;
  const ms = Math.round(performance.now() - state.shownAt);
  try {
    const reply = await api("POST", `/api/sessions/${state.session}/answers`, { trial: state.next, answer: choice, ms });
    adopt(reply);
    if (reply.feedback) {
      const fb = $("feedback");
      fb.textContent = `${reply.feedback.correct ? "Right" : "Wrong"}: it was ${reply.feedback.truth}.`;
      fb.className = reply.feedback.correct ? "right" : "wrong";
      await new Promise((resolve) => setTimeout(resolve, 1200));
      fb.textContent = ""; fb.className = "";
    }
  } catch (error) {
    $("error").textContent = error.message;
    if (error.status === 409) adopt(await api("GET", `/api/sessions/${state.session}`));
  }
  await loadTrial();
}

async function begin() {
  $("start").disabled = true;
  if (!state.session) adopt(await api("POST", "/api/sessions"));
  await loadTrial();
}

async function init() {
  const saved = localStorage.getItem(KEY);
  if (saved) {
    try { adopt(await api("GET", `/api/sessions/${saved}`)); } catch (error) { localStorage.removeItem(KEY); }
  }
  if (state.session && state.next > 0) { await loadTrial(); return; } // resume where the participant was
  $("practice-count").textContent = state.session ? String(state.practice) : "few";
  show("intro");
}

$("start").addEventListener("click", () => begin().catch((e) => { $("error").textContent = e.message; }));
$("real").addEventListener("click", () => answer("real"));
$("generated").addEventListener("click", () => answer("generated"));
$("replay").addEventListener("click", play);
document.addEventListener("keydown", (event) => {
  if (event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
  const key = event.key.toLowerCase();
  if (key === "r") answer("real");
  else if (key === "g") answer("generated");
  else if (key === " " && !$("trial").hidden) { event.preventDefault(); play(); }
});
init().catch((e) => { $("error").textContent = e.message; });
