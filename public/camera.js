// Camera scanning for the floor's scan forms, where the browser has the
// Barcode Detection API (Chrome on Android and ChromeOS, Edge, Samsung
// Internet). Without it, or without JavaScript, the camera buttons stay
// hidden and the wedge scanner or the keyboard does the work.
//
// A scan form carries a `[data-camera]` button (rendered by the app, hidden
// by CSS until this marks the page). Tapping it opens the back camera in a
// dialog; the first barcode read fills the form's scan field and submits
// the form, exactly as a wedge scanner's Enter would, so the offline queue,
// idempotency keys and refusals all work the same.
(function () {
  "use strict";
  if (
    !("BarcodeDetector" in window) ||
    !navigator.mediaDevices ||
    !navigator.mediaDevices.getUserMedia
  ) {
    return;
  }
  document.documentElement.dataset.hasCamera = "yes";

  // What floor labels use: Code 128 (bins, GS1-128), EAN/UPC (items),
  // DataMatrix and QR (GS1 DataMatrix, badges).
  const WANTED = [
    "code_128",
    "ean_13",
    "ean_8",
    "upc_a",
    "upc_e",
    "data_matrix",
    "qr_code",
    "code_39",
    "itf",
  ];
  // How often a frame is read: fast enough to feel instant, slow enough to
  // spare a tablet's battery.
  const FRAME_MS = 150;

  let session = null;

  async function detector() {
    try {
      const supported = await window.BarcodeDetector.getSupportedFormats();
      const formats = WANTED.filter((f) => supported.includes(f));
      if (formats.length) return new window.BarcodeDetector({ formats });
    } catch (_) {
      // Older implementations lack getSupportedFormats: take their defaults.
    }
    return new window.BarcodeDetector();
  }

  function dialog() {
    let d = document.getElementById("keel-camera");
    if (d) return d;
    d = document.createElement("dialog");
    d.id = "keel-camera";
    d.setAttribute("aria-label", "Camera scanner");
    d.className =
      "w-full max-w-xl rounded-xl bg-slate-900 p-4 text-white backdrop:bg-black/70";
    d.innerHTML =
      '<p class="mb-3 text-2xl font-semibold">Point the camera at the barcode</p>' +
      '<video class="w-full rounded-lg bg-black" playsinline muted></video>' +
      '<p role="status" aria-live="polite" class="mt-3 min-h-8 text-xl text-amber-200"></p>' +
      '<button type="button" class="mt-3 min-h-16 w-full rounded-lg bg-slate-600 text-2xl font-semibold">Cancel</button>';
    d.querySelector("button").addEventListener("click", () => stop());
    d.addEventListener("cancel", () => stop());
    document.body.appendChild(d);
    return d;
  }

  function stop() {
    if (!session) return;
    session.running = false;
    session.stream.getTracks().forEach((t) => t.stop());
    const d = document.getElementById("keel-camera");
    if (d && d.open) d.close();
    const field = session.field;
    session = null;
    field.focus();
  }

  async function start(form, field) {
    const d = dialog();
    const status = d.querySelector("[role=status]");
    const video = d.querySelector("video");
    status.textContent = "";
    if (!d.open) d.showModal();
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment" },
        audio: false,
      });
    } catch (e) {
      status.textContent =
        "The camera can't be opened (" +
        (e && e.name ? e.name : "refused") +
        "). Allow the camera for this site, or use the scanner.";
      return;
    }
    session = { running: true, stream, field };
    const mine = session;
    video.srcObject = stream;
    // Not awaited: play() settles only once a frame arrives, and detect()
    // simply finds nothing until then.
    video.play().catch(() => {});
    const reader = await detector();
    const tick = async () => {
      if (!mine.running) return;
      try {
        const codes = await reader.detect(video);
        const hit = codes.find((c) => c.rawValue);
        if (hit && mine.running) {
          stop();
          field.value = hit.rawValue;
          form.requestSubmit();
          return;
        }
      } catch (_) {
        // A frame that isn't ready yet; the next one is tried.
      }
      setTimeout(tick, FRAME_MS);
    };
    tick();
  }

  document.addEventListener("click", (ev) => {
    const button = ev.target.closest && ev.target.closest("[data-camera]");
    if (!button) return;
    const form = button.closest("form");
    const field =
      form && form.querySelector("input[name=code], input[name=scan]");
    if (!field) return;
    ev.preventDefault();
    start(form, field);
  });
})();
