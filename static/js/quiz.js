// Taking a quiz: a countdown from the server's deadline, autosave of each answer as it changes
// (and every 15 s for anything not yet saved), a "saved" state per question, a warning before
// leaving with unsaved answers, and the refusal message when the server says it is too late.
(function () {
  "use strict";
  const root = document.getElementById("quiz");
  if (!root) return;
  const form = document.getElementById("submit-form");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  // Seconds left as the server counted them when it sent the page: the client's own clock only
  // measures the time since, so a wrong clock on the student's machine changes nothing.
  const endsAt = performance.now() + parseFloat(root.dataset.secondsLeft) * 1000;
  const dirty = new Set();
  const timers = new Map();
  let closed = false;
  let submitting = false;

  function fieldset(slug) { return root.querySelector(`fieldset[data-question="${CSS.escape(slug)}"]`); }

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
    const state = box.querySelector(".save-state");
    state.textContent = text;
    state.className = "save-state small " + (kind || "");
  }

  async function save(slug) {
    const box = fieldset(slug);
    if (!box || closed) return true;
    dirty.delete(slug);
    show(box, "Saving…", "muted");
    let response;
    try {
      response = await fetch(root.dataset.answerUrl.replace("__question__", encodeURIComponent(slug)), {
        method: "PUT",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json"},
        body: JSON.stringify({value: value(box)}),
        credentials: "same-origin",
      });
    } catch (error) {
      dirty.add(slug);
      show(box, "Not saved yet: no connection. Retrying…", "error");
      return false;
    }
    const data = await response.json().catch(() => ({}));
    if (response.ok) {
      const at = new Date(data.saved_at).toLocaleTimeString();
      show(box, data.warning ? `Saved ${at}. ${data.warning}` : `Saved ${at}`, data.warning ? "warn" : "ok");
      return true;
    }
    if (response.status === 409) {  // too late, or already submitted: the page stops saving
      show(box, data.detail || "Not saved: the attempt is closed.", "error");
      closeWith("This attempt is closed: the server no longer accepts answers. " +
                "The answers you saved before stand.");
      return false;
    }
    dirty.add(slug);
    show(box, data.detail || `Not saved (error ${response.status}). Retrying…`, "error");
    return false;
  }

  function changed(event) {
    const box = event.target.closest("fieldset[data-question]");
    if (!box || closed) return;  // disabling a focused input fires one last "change"
    const slug = box.dataset.question;
    dirty.add(slug);
    show(box, "Not saved yet", "muted");
    clearTimeout(timers.get(slug));
    const delay = event.type === "change" ? 0 : 700;
    timers.set(slug, setTimeout(() => save(slug), delay));
  }

  async function saveAll() {
    const pending = Array.from(dirty);
    const results = await Promise.all(pending.map(save));
    return results.every(Boolean);
  }

  function disable() {
    root.querySelectorAll("fieldset input, fieldset textarea").forEach((i) => { i.disabled = true; });
  }

  function closeWith(message) {
    closed = true;
    dirty.clear();
    disable();
    const banner = document.getElementById("time-up");
    banner.textContent = message;
    banner.hidden = false;
  }

  function tick() {
    if (closed) {  // the server closed the attempt: stop counting down a time that no longer holds
      document.getElementById("time-left").textContent = "closed";
      return;
    }
    const left = Math.max(0, (endsAt - performance.now()) / 1000);
    const minutes = Math.floor(left / 60);
    const seconds = Math.floor(left % 60);
    document.getElementById("time-left").textContent = `${minutes}:${String(seconds).padStart(2, "0")}`;
    if (left <= 0 && !submitting) {
      submitting = true;
      saveAll().finally(() => {
        closeWith("Time is up. Submitting the answers you saved…");
        form.submit();
      });
      return;
    }
    setTimeout(tick, 250);
  }

  root.addEventListener("input", changed);
  root.addEventListener("change", changed);
  setInterval(() => { if (dirty.size) saveAll(); }, 15000);
  window.addEventListener("beforeunload", (event) => {
    if (dirty.size && !submitting) { event.preventDefault(); event.returnValue = ""; }
  });
  form.addEventListener("submit", (event) => {
    if (submitting && closed) return;
    event.preventDefault();
    submitting = true;
    saveAll().finally(() => form.submit());
  });
  tick();
})();
