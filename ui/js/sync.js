// The sync client's part of the interface: the controls of the sync area
// that is always on screen ("Sync now", what the sync is doing, the last
// error in words, course updates installed), and the settings' sections to
// enrol this profile and to carry progress on a USB stick.
//
// The background sync runs in the app (src-tauri/src/sync.rs) and sends its
// status as `sync-status` events; nothing here waits on the network.

import { call, AppError } from "./api.js";
import { h, clear, field } from "./dom.js";
import { t, formatDateTime } from "./i18n.js";
import { showError, announce, refreshSync } from "./app.js";

let status = null;
let announcedReport = null;
let factsDue = 0;

// What a running sync is doing, in words.
function phaseText(p) {
  if (!p) return t("syncRunning");
  switch (p.phase) {
    case "probing":
      return t("syncProbing");
    case "pushing":
      return t("syncPushing", { done: p.done, total: p.total });
    case "pulling":
      return t("syncPulling");
    case "downloading":
      return t("syncDownloading", { course: p.course_id, version: p.version, percent: p.total ? Math.floor((100 * p.done) / p.total) : 0 });
    case "installing":
      return t("syncInstalling", { course: p.course_id, version: p.version });
    default:
      return t("syncRunning");
  }
}

// A course update the last sync installed, with what changed.
function updateText(u) {
  const c = u.changes || {};
  const n = (list) => (list ? list.length : 0);
  const lessons = c.lessons || {};
  const text = u.from_version
    ? t("syncCourseUpdated", { course: u.course_id, from: u.from_version, to: u.to_version })
    : t("syncCourseInstalled", { course: u.course_id, version: u.to_version });
  if (!u.from_version) return text;
  return `${text} ${t("syncUpdateChanges", { added: n(lessons.added), changed: n(lessons.changed), removed: n(lessons.removed) })}`;
}

// When the sync is idle: what a person should know, most important first.
function idleLines(s) {
  const lines = [];
  if (!s.enrolled) {
    lines.push(t("syncNotEnrolled"));
    return lines;
  }
  // No network is the usual case: say it in the interface language (the
  // details are in the line's tooltip); other errors in the hub's words.
  if (s.reachable === false) lines.push(t("syncUnreachable"));
  else if (s.last_error) lines.push(t("syncLastError", { error: s.last_error }));
  if (s.reachable === false && s.next_attempt_at) lines.push(t("syncNextTry", { when: formatDateTime(s.next_attempt_at) }));
  if (s.rejected > 0) lines.push(t("syncRejected", { n: s.rejected }));
  if (s.conflicts > 0) lines.push(t("syncConflicts", { n: s.conflicts }));
  const r = s.last_report;
  for (const u of (r && r.updates) || []) {
    if (u.outcome === "updated" || u.outcome === "installed") lines.push(updateText(u));
    else if (u.error) lines.push(u.error);
  }
  if (!lines.length && s.pending === 0 && s.last_success_at) lines.push(t("syncUpToDate"));
  return lines;
}

let button = null;
let line = null;

function ensureControls() {
  const box = document.getElementById("sync-actions");
  if (!box) return false;
  if (!button || !box.contains(button)) {
    button = h("button", { type: "button", class: "secondary", onclick: syncNow }, t("syncNow"));
    // One live region, updated in place, so screen readers hear changes.
    line = h("p", { class: "sync-line", role: "status", "aria-live": "polite" });
    clear(box).append(button, line);
  }
  return true;
}

export function render() {
  if (!status || !ensureControls()) return;
  button.textContent = t("syncNow");
  button.disabled = status.running || !status.enrolled;
  line.textContent = status.running ? phaseText(status.phase) : idleLines(status).join(" · ");
  if (status.last_error) line.title = status.last_error;
  else line.removeAttribute("title");
  line.classList.toggle("sync-problem", !status.running && Boolean(status.last_error || status.rejected || status.conflicts));
  // A course update is news: say it once.
  const r = status.last_report;
  if (r && r.finished_at !== announcedReport) {
    announcedReport = r.finished_at;
    const news = (r.updates || []).filter((u) => u.outcome === "updated" || u.outcome === "installed");
    if (news.length) announce(news.map(updateText).join(" "));
  }
}

async function syncNow() {
  try {
    await call("sync_now");
  } catch (e) {
    showError(e);
  }
}

function onStatus(s) {
  status = s;
  render();
  // The facts above (pending, last sync, hub) come from the store; read
  // them again at most once a second while a sync runs.
  const now = Date.now();
  if (!s.running || now >= factsDue) {
    factsDue = now + 1000;
    refreshSync();
  }
}

async function start() {
  const events = window.__TAURI__ && window.__TAURI__.event;
  if (events && events.listen) {
    try {
      await events.listen("sync-status", (e) => onStatus(e.payload));
    } catch (_) {
      // No events: the status is still read below and at each screen.
    }
  }
  try {
    onStatus(await call("sync_state"));
  } catch (e) {
    if (ensureControls()) line.textContent = e.message;
  }
}

// --- Settings: enrolment and the USB stick ---------------------------------

function today() {
  return new Date().toISOString().slice(0, 10);
}

async function chooseFile(kind) {
  const dialog = window.__TAURI__ && window.__TAURI__.dialog;
  if (!dialog) throw new AppError("internal", t("noFileDialog"));
  if (kind === "save") {
    return dialog.save({ title: t("usbExportTitle"), defaultPath: `outpost-progress-${today()}.txt` });
  }
  return dialog.open({ title: t("usbImportTitle"), multiple: false, directory: false });
}

export async function settingsSections(main) {
  // The interface language may just have changed: say it again in it.
  render();
  const code = h("input", { type: "text", autocomplete: "off", spellcheck: "false", required: true, maxlength: 64 });
  const email = h("input", { type: "email", autocomplete: "email", maxlength: 200 });
  const enrolled = h("p", { class: "sync-result", role: "status" });
  const enrolForm = h(
    "form",
    { "aria-labelledby": "enrol-title" },
    h("h2", { id: "enrol-title", text: t("enrolSection") }),
    h("p", { class: "hint", text: t("enrolIntro") }),
    field(t("enrolCode"), code),
    field(t("enrolEmail"), email, t("enrolEmailHint")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("enrolButton"))),
    enrolled
  );
  enrolForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = enrolForm.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const s = await call("settings_get");
      if (!s.hub_url) throw new AppError("invalid_input", t("enrolNeedsHub"));
      const who = await call("sync_enroll", { hubUrl: s.hub_url, code: code.value.trim(), email: email.value.trim() || null });
      code.value = "";
      enrolled.textContent = who.joined_existing_learner
        ? `${t("enrolled", { name: who.learner_name, cohort: who.cohort })} ${t("enrolledJoined")}`
        : t("enrolled", { name: who.learner_name, cohort: who.cohort });
      announce(enrolled.textContent);
      refreshSync();
    } catch (e) {
      showError(e);
    } finally {
      button.disabled = false;
    }
  });

  const usbResult = h("p", { class: "sync-result", role: "status" });
  const exportButton = h("button", { type: "button" }, t("usbExport"));
  const importButton = h("button", { type: "button", class: "secondary" }, t("usbImport"));
  exportButton.addEventListener("click", async () => {
    try {
      const path = await chooseFile("save");
      if (!path) return;
      const r = await call("sync_export_progress", { path });
      const parts = r.files.length
        ? r.files.map((f) => t("usbExported", { n: f.events, name: f.profile_name, path: f.path }))
        : [t("usbNothing")];
      for (const name of r.not_enrolled) parts.push(t("usbNotEnrolled", { name }));
      usbResult.textContent = parts.join(" ");
      announce(usbResult.textContent);
    } catch (e) {
      showError(e);
    }
  });
  importButton.addEventListener("click", async () => {
    try {
      const path = await chooseFile("open");
      if (!path) return;
      const r = await call("sync_import_receipt", { path });
      let text = r.already_imported ? t("usbAlready") : t("usbImported", { n: r.confirmed, name: r.profile_name });
      if (!r.already_imported && r.rejected.length) text += ` ${t("usbRejected", { n: r.rejected.length, reason: r.rejected[0][1] })}`;
      usbResult.textContent = text;
      announce(text);
      refreshSync();
    } catch (e) {
      showError(e);
    }
  });
  const usb = h(
    "section",
    { "aria-labelledby": "usb-title" },
    h("h2", { id: "usb-title", text: t("usbSection") }),
    h("p", { class: "hint", text: t("usbIntro") }),
    h("div", { class: "actions" }, exportButton, importButton),
    usbResult
  );
  main.append(enrolForm, usb);
}

// The top bar grows when its text wraps (a long hub address, French, a
// sync message); what sticks below it must clear its real height.
function trackTopbar() {
  const bar = document.querySelector(".topbar");
  if (!bar) return;
  const set = () => document.documentElement.style.setProperty("--topbar-block-size", `${Math.ceil(bar.getBoundingClientRect().height)}px`);
  if (window.ResizeObserver) new ResizeObserver(set).observe(bar);
  set();
}

window.addEventListener("hashchange", render);
trackTopbar();
start();
