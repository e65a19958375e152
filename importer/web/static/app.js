// onoffice-import's only script: progress of a running job, and the mapping's live preview.
// Pages work without it (a reload shows the same state); it only saves the reloads.
"use strict";

function csrfToken() {
  const field = document.querySelector("input[name=csrf]");
  return field ? field.value : "";
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (all, key) => (key in values ? values[key] : all));
}

// numbers as the page's language writes them: 6.446 and 106,7 in German
const lang = document.documentElement.lang || "en";
const count = new Intl.NumberFormat(lang);
const rate = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

function watchJob(box) {
  const words = document.getElementById("progress-words");
  const bar = box.querySelector("progress");
  const text = box.querySelector(".progress-text") || box;
  async function poll() {
    let state;
    try {
      const answer = await fetch("/jobs/" + box.dataset.job, { credentials: "same-origin" });
      if (answer.status === 404) {  // the app was started again: the page says where to go
        window.location.reload();
        return;
      }
      state = await answer.json();
    } catch (e) {
      setTimeout(poll, 1000);
      return;
    }
    if (!state.running) {
      window.location.reload();
      return;
    }
    if (bar && state.total && state.done) {
      bar.max = state.total;
      bar.value = state.done;
    }
    if (words && state.stage && !state.counting) {
      // a step without a count (reading, asking onOffice): what it does, and for how long
      const took = state.elapsed >= 120
        ? fill(words.dataset.minutes, { n: count.format(Math.floor(state.elapsed / 60)) })
        : fill(words.dataset.seconds, { n: count.format(Math.round(state.elapsed)) });
      text.textContent = state.stage + " · " + took;
    } else if (words && state.total) {
      // count, the recent rate, and the time left in words (importer/core/progress.py)
      const shown = {
        done: count.format(state.done),
        total: count.format(state.total),
        rate: rate.format(state.rate),
      };
      const what = state.kind === "undo" ? words.dataset.items : words.dataset.rows;
      const parts = state.stage ? [state.stage] : [];
      parts.push(fill(what, shown));
      if (state.rate > 0) parts.push(fill(words.dataset.rate, shown));
      if (state.left_words) parts.push(state.left_words);
      text.textContent = parts.join(" · ");
    }
    setTimeout(poll, 400);
  }
  poll();
}

function livePreview(form) {
  const target = document.getElementById("preview");
  let timer = null;
  let sent = 0;
  async function refresh() {
    const mine = ++sent;
    const answer = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Preview": "1", "X-CSRF-Token": csrfToken() },
      credentials: "same-origin",
    });
    if (mine === sent && answer.ok) target.innerHTML = await answer.text();
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 500);
  }
  form.addEventListener("input", later);
  form.addEventListener("change", (event) => {
    const slot = event.target.closest(".slot");
    if (slot && event.target.classList.contains("kind")) slot.dataset.kind = event.target.value;
    later();
  });
}

function fixForm(form) {
  const bar = document.getElementById("sendbar");
  if (!bar) return;
  const words = bar.querySelector("[data-changed]");
  form.addEventListener("input", (event) => {
    const row = event.target.closest("tr");
    if (row) row.classList.add("changed");
    const n = form.querySelectorAll("tr.changed").length;
    words.textContent = fill(words.dataset.changed, { n: n });
    bar.hidden = n === 0;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-job]").forEach(watchJob);
  const fix = document.getElementById("fix-form");
  if (fix) fixForm(fix);
  const picker = document.querySelector("#upload-form input[type=file]");
  if (picker) {
    picker.addEventListener("change", () => picker.form.requestSubmit());
    // a file dropped anywhere on the dashed area, not only on the button
    const zone = picker.form;
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      if (event.dataTransfer.files.length) {
        picker.files = event.dataTransfer.files;
        zone.requestSubmit();
      }
    });
  }
  const form = document.getElementById("mapping-form");
  if (form) livePreview(form);
});
