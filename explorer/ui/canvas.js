// Called on mount AND again whenever `data` changes (every stroke: Python echoes the
// strokes back). Must be idempotent: per-mount state lives on parentElement (shadow root).
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const cfg = data || {};
  const canvas = parentElement.querySelector("canvas.dc-canvas");
  let s = parentElement.__drawCanvas;
  if (!s || s.canvas !== canvas) {
    s = parentElement.__drawCanvas = { canvas, ctx: canvas.getContext("2d"), strokes: [],
      active: null, pointerId: null, cfg, send: setStateValue, token: undefined };
    const paint = (st) => {
      const c = s.ctx, W = canvas.width;
      c.strokeStyle = c.fillStyle = "#fff"; c.lineWidth = s.cfg.pen * W;
      c.lineCap = c.lineJoin = "round"; c.beginPath();
      if (st.length === 1) {
        c.arc(st[0][0] * W, st[0][1] * W, c.lineWidth / 2, 0, 2 * Math.PI); c.fill(); return;
      }
      c.moveTo(st[0][0] * W, st[0][1] * W);
      for (let i = 1; i < st.length; i++) c.lineTo(st[i][0] * W, st[i][1] * W);
      c.stroke();
    };
    s.redraw = () => {
      s.ctx.fillStyle = "#000"; s.ctx.fillRect(0, 0, canvas.width, canvas.height);
      s.strokes.forEach(paint); if (s.active) paint(s.active);
    };
    s.resize = () => {  // backing store = CSS size x devicePixelRatio (sharp at DPR 1.5)
      const px = Math.max(1, Math.round(canvas.getBoundingClientRect().width * (devicePixelRatio || 1)));
      if (canvas.width !== px) { canvas.width = canvas.height = px; s.redraw(); }
    };
    const pos = (e) => {
      const r = canvas.getBoundingClientRect(), q = (v) => Math.round(Math.min(1, Math.max(0, v)) * 1e4) / 1e4;
      return [q((e.clientX - r.left) / r.width), q((e.clientY - r.top) / r.height)];
    };
    const send = () => s.send("strokes", s.strokes.map((st) => st.slice()));
    const down = (e) => {
      if (s.pointerId !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
      e.preventDefault(); s.pointerId = e.pointerId;
      try { canvas.setPointerCapture(e.pointerId); } catch (_) {}
      s.active = [pos(e)]; paint(s.active);
    };
    const move = (e) => {
      if (e.pointerId !== s.pointerId || !s.active) return;
      e.preventDefault();
      const evs = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
      for (const ev of (evs.length ? evs : [e])) {
        const p = pos(ev), last = s.active[s.active.length - 1];
        if (Math.hypot(p[0] - last[0], p[1] - last[1]) < 0.003) continue;  // decimate
        s.active.push(p); paint([last, p]);
      }
    };
    const up = (e) => {
      if (e.pointerId !== s.pointerId) return;
      if (s.active) { if (e.type === "pointerup") move(e); s.strokes.push(s.active); }
      s.active = null; s.pointerId = null;
      send();  // the only place a stroke is sent: once per stroke end
    };
    canvas.addEventListener("pointerdown", down);
    canvas.addEventListener("pointermove", move);
    canvas.addEventListener("pointerup", up);
    canvas.addEventListener("pointercancel", up);
    canvas.addEventListener("contextmenu", (e) => e.preventDefault());
    parentElement.querySelector("button.dc-clear").addEventListener("click", () => {
      s.strokes = []; s.active = null; s.pointerId = null; s.redraw(); send();
    });
    const ro = new ResizeObserver(s.resize); ro.observe(canvas);
    s.cleanup = () => ro.disconnect();
  }
  s.cfg = cfg; s.send = setStateValue;  // refresh config + closure on every call
  canvas.style.width = `min(100%, ${cfg.size || 280}px)`;
  // Take Python's strokes only on a fresh mount or when Python cleared (clear_token
  // bumped). Otherwise local strokes win, so the stale echo of an in-flight rerun
  // never erases a stroke drawn meanwhile.
  if (s.token !== cfg.clear_token) {
    s.token = cfg.clear_token;
    s.strokes = Array.isArray(cfg.strokes) ? cfg.strokes : [];
  }
  s.resize(); s.redraw();
  return s.cleanup;  // Streamlit calls the last returned cleanup on unmount
}
