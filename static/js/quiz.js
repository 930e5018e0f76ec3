// Taking a quiz: a countdown from the server's deadline, autosave of each answer as it changes
// (and a sweep every 15 s for anything not yet saved), a "saved" state per question, a warning
// before leaving with unsaved answers, and the refusal message when the server says it is too late.
//
// Exam day means a slow or overloaded server, so autosave assumes nothing about it:
// - one save per question in flight at a time, always of the newest answer: a reply tells which
//   version it confirms, and "Saved at hh:mm:ss" is shown only when that is the newest one;
// - each save carries its version (counted on from the one the server held when it sent the
//   page), and the server keeps no save numbered at or below one it holds: a save given up on
//   that reaches it after a newer one changes nothing. A reply saying "superseded" (another tab,
//   or this page before a reload, saved a higher number) sends this page's answer again above it;
// - a failed save (no connection, 5xx, 408, 429) or one with no reply within SAVE_TIMEOUT_MS is
//   retried with exponential backoff and jitter (a thousand pages must not retry in step);
// - submitting (by the button or the countdown) waits for the pending saves first.
(function () {
  "use strict";
  const root = document.getElementById("quiz");
  if (!root) return;
  const form = document.getElementById("submit-form");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const summary = document.getElementById("save-summary");
  // Seconds left as the server counted them when it sent the page: the client's own clock only
  // measures the time since, so a wrong clock on the student's machine changes nothing.
  const endsAt = performance.now() + parseFloat(root.dataset.secondsLeft) * 1000;
  const graceMs = parseFloat(root.dataset.grace || "0") * 1000;
  // Longer than a loaded server's worst reply seen in bench/ (a save given up on is still done
  // by the server, so giving up early only adds load), short enough to notice a dead connection.
  const SAVE_TIMEOUT_MS = 30000;
  const RETRY_FIRST_MS = 1000;
  const RETRY_MAX_MS = 30000;
  // Per question: `version` counts changes (from the server's held version, data-version),
  // `saved` is the version the server confirmed last, `refused` a version the server refused
  // for good (a 4xx: sending it again changes nothing).
  const states = new Map();
  let closed = false;
  let submitting = false; // the student or the countdown asked to submit
  let leaving = false; // the form is being submitted: leaving loses nothing
  let timeUp = false;

  function fieldset(slug) { return root.querySelector(`fieldset[data-question="${CSS.escape(slug)}"]`); }

  function state(slug) {
    if (!states.has(slug)) {
      const held = parseInt((fieldset(slug) || {dataset: {}}).dataset.version || "0", 10) || 0;
      states.set(slug, {version: held, saved: held, refused: -1, inFlight: false, timer: null, failures: 0});
    }
    return states.get(slug);
  }

  function dirty(st) { return st.version !== st.saved; }
  function waiting(st) { return dirty(st) && st.refused !== st.version; } // will be sent (again)
  function unsaved() { return Array.from(states.values()).filter(dirty).length; }

  function value(box) {
    // How to read the answer is the question's widget (its kind's, in courseapp/quizzes/kinds/).
    const widget = box.dataset.widget;
    const inputs = box.querySelectorAll("input, textarea");
    if (widget === "choice") {
      const checked = box.querySelector("input:checked");
      return checked ? parseInt(checked.value, 10) : null;
    }
    if (widget === "choices") {
      return Array.from(box.querySelectorAll("input:checked")).map((i) => parseInt(i.value, 10));
    }
    if (widget === "boolean") {
      const checked = box.querySelector("input:checked");
      return checked ? checked.value === "true" : null;
    }
    return inputs[0].value;
  }

  function show(box, text, kind) {
    const el = box.querySelector(".save-state");
    el.textContent = text;
    el.className = "save-state small " + (kind || "");
  }

  function report() {
    // The page-wide line next to the timer, and the submit that waited for the saves.
    const count = unsaved();
    if (summary && !closed) {
      summary.textContent = count === 0 ? "All answers saved." :
        `${count} answer${count === 1 ? "" : "s"} not saved yet.` +
        (submitting ? " Submitting as soon as they are saved…" : "");
      summary.className = count ? "small" : "small muted";
    }
    const pending = Array.from(states.values()).some((st) => waiting(st) || st.inFlight);
    if (submitting && !pending && !leaving && !closed) send();
  }

  function send() {
    leaving = true;
    form.submit();
  }

  function schedule(slug, delay) {
    const st = state(slug);
    clearTimeout(st.timer);
    st.timer = setTimeout(() => { st.timer = null; save(slug); }, delay);
  }

  function backoff(failures) {
    // Exponential, capped, with "equal jitter": half the step fixed, half random, so that pages
    // that failed together (a server restart) spread their retries instead of retrying in step.
    const step = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (failures - 1));
    return step / 2 + Math.random() * step / 2;
  }

  function savedAt(iso) {
    // The server's own time in the course's zone (as the deadline above is shown), not the
    // student's clock: "12:03:09" out of "2026-12-07T12:03:09.123+01:00".
    const match = /T(\d\d:\d\d:\d\d)/.exec(iso || "");
    return match ? match[1] : new Date().toTimeString().slice(0, 8);
  }

  async function save(slug) {
    const box = fieldset(slug);
    const st = state(slug);
    // One save per question in flight: the newest answer goes when it returns.
    if (!box || closed || st.inFlight || !waiting(st)) return;
    const sent = st.version;
    const body = JSON.stringify({value: value(box), version: sent});
    st.inFlight = true;
    show(box, st.failures ? "Not saved yet: saving again…" : "Saving…", "muted");
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; controller.abort(); }, SAVE_TIMEOUT_MS);
    let response = null;
    let data = {};
    try {
      response = await fetch(root.dataset.answerUrl.replace("__question__", encodeURIComponent(slug)), {
        method: "PUT",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json"},
        body,
        credentials: "same-origin",
        signal: controller.signal,
      });
      data = await response.json().catch(() => ({}));
    } catch (error) {
      response = null; // no connection, or no answer in time
    } finally {
      clearTimeout(timer);
      st.inFlight = false;
    }
    if (closed) return;
    if (response && response.ok && data.superseded) {
      // The server holds a higher-numbered answer than this one: this page's newest answer is
      // what the student sees, so it goes again, numbered above the one held.
      st.failures = 0;
      st.version = Math.max(st.version, (data.version || 0) + 1);
      show(box, "Not saved yet", "muted");
      schedule(slug, 0);
    } else if (response && response.ok) {
      st.failures = 0;
      if (sent === st.version) {
        st.saved = sent;
        const at = savedAt(data.saved_at);
        show(box, data.warning ? `Saved at ${at}. ${data.warning}` : `Saved at ${at}`, data.warning ? "warn" : "ok");
      } else {
        // The reply confirms an older answer: the newest is not saved yet, send it now.
        show(box, "Not saved yet", "muted");
        schedule(slug, 0);
      }
    } else if (response && response.status === 409) { // too late, or already submitted
      show(box, data.detail || "Not saved: the attempt is closed.", "error");
      closeWith("This attempt is closed: the server no longer accepts answers. " +
                "The answers you saved before stand.");
      return;
    } else if (!response || response.status >= 500 || response.status === 408 || response.status === 429) {
      st.failures += 1;
      const delay = backoff(st.failures);
      const why = !response ? (timedOut ? "the server did not answer in time" : "no connection")
        : `the server answered ${response.status}`;
      show(box, `Not saved yet: ${why}. Retrying in ${Math.ceil(delay / 1000)} s…`, "error");
      schedule(slug, delay);
    } else {
      // Refused for a reason that sending it again will not change (the answer's form, a lost
      // session): say why and wait for the student to change it.
      st.refused = sent;
      show(box, `Not saved: ${data.detail || `error ${response.status}`}`, "error");
      if (sent !== st.version) schedule(slug, 0);
    }
    report();
  }

  function changed(event) {
    const box = event.target.closest("fieldset[data-question]");
    if (!box || closed) return; // disabling a focused input fires one last "change"
    const slug = box.dataset.question;
    const st = state(slug);
    st.version += 1;
    show(box, "Not saved yet", "muted");
    schedule(slug, event.type === "change" ? 0 : 700);
    report();
  }

  function flush() {
    // Now, not after the backoff, and with the backoff started afresh: on submit, when the
    // connection is back, and when the time is up (several tries fit in the server's grace).
    states.forEach((st, slug) => {
      st.failures = 0;
      if (waiting(st) && !st.inFlight) schedule(slug, 0);
    });
  }

  function disable() {
    root.querySelectorAll("fieldset input, fieldset textarea").forEach((i) => { i.disabled = true; });
  }

  function closeWith(message) {
    closed = true;
    disable();
    states.forEach((st) => clearTimeout(st.timer));
    if (summary) summary.textContent = "";
    const banner = document.getElementById("time-up");
    banner.textContent = message;
    banner.hidden = false;
  }

  function tick() {
    if (closed) { // the server closed the attempt: stop counting down a time that no longer holds
      document.getElementById("time-left").textContent = "closed";
      return;
    }
    const left = Math.max(0, (endsAt - performance.now()) / 1000);
    const minutes = Math.floor(left / 60);
    const seconds = Math.floor(left % 60);
    document.getElementById("time-left").textContent = `${minutes}:${String(seconds).padStart(2, "0")}`;
    if (left <= 0 && !timeUp) {
      // The server still takes answers for the grace after the deadline: the pending ones are
      // sent (and retried) until then, and the attempt is submitted with them, or without them
      // once the grace is nearly over (the server would refuse them, and it submits by itself).
      timeUp = true;
      submitting = true;
      disable();
      const banner = document.getElementById("time-up");
      banner.textContent = "Time is up. Submitting the answers you saved…";
      banner.hidden = false;
      flush();
      setTimeout(() => { if (!leaving) send(); }, Math.max(0, graceMs - 5000));
      report();
      return;
    }
    setTimeout(tick, 250);
  }

  root.addEventListener("input", changed);
  root.addEventListener("change", changed);
  setInterval(() => {
    states.forEach((st, slug) => { if (waiting(st) && !st.inFlight && st.timer === null) schedule(slug, 0); });
  }, 15000);
  window.addEventListener("online", flush);
  window.addEventListener("beforeunload", (event) => {
    if (unsaved() && !leaving && !closed) { event.preventDefault(); event.returnValue = ""; }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (submitting) return;
    submitting = true;
    form.querySelector("button[type=submit]").disabled = true;
    flush();
    report();
  });
  tick();
})();
