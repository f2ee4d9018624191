// The app's commands (src-tauri/src/commands.rs). Each rejects with
// {kind, message}: `kind` is one of the AppError kinds, `message` is text a
// person can read. Nothing here knows about SQLite or Tauri internals.

export class AppError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

function tauri() {
  const core = window.__TAURI__ && window.__TAURI__.core;
  if (!core) throw new AppError("internal", "The app's bridge to its core is missing (window.__TAURI__).");
  return core;
}

export async function call(command, args = {}) {
  try {
    return await tauri().invoke(command, args);
  } catch (e) {
    if (e instanceof AppError) throw e;
    if (e && typeof e === "object" && "message" in e) throw new AppError(e.kind || "internal", e.message);
    throw new AppError("internal", String(e));
  }
}

// An image or other asset of an installed course, served by the app's
// `outpost-asset` protocol from the verified package.
// The path is "<course>/<name>", percent-encoded once as a whole (course
// ids never hold a "/", so the first one separates the two).
export function assetUrl(courseId, name) {
  const path = `${courseId}/${name}`;
  const core = window.__TAURI__ && window.__TAURI__.core;
  if (core && core.convertFileSrc) return core.convertFileSrc(path, "outpost-asset");
  return `outpost-asset://localhost/${encodeURIComponent(path)}`;
}

export async function openFileDialog(title) {
  const dialog = window.__TAURI__ && window.__TAURI__.dialog;
  if (!dialog || !dialog.open) return null;
  const picked = await dialog.open({
    title,
    multiple: false,
    directory: false,
    filters: [{ name: "Outpost course package", extensions: ["opkg"] }],
  });
  return picked || null;
}
