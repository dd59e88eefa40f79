/*
 * ResLib resumable upload widget (templates/resources/upload_widget.html), built on tus-js-client 4.3.1
 * (static/resources/vendor/tus.min.js, MIT licence).
 *
 * - 8 MiB chunks to /api/v1/uploads/ (tus 1.0.0), session authentication with the X-CSRFToken header;
 * - pause / resume / cancel (cancel terminates the upload on the server);
 * - retries after dropped connections and continues when the browser comes back online;
 * - remembers unfinished uploads in localStorage (tus-js-client fingerprints): after a page reload, choosing the
 *   same file again continues where it stopped (findPreviousUploads + resumeFromPreviousUpload);
 * - on success writes the upload id into the hidden input (default name "upload_id") of the surrounding form and,
 *   in attach mode, submits that form.
 * Every text comes from data-msg-* attributes, translated by the template.
 */
(function () {
  "use strict";

  var RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000];

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : match;
    });
  }

  function formatBytes(n) {
    if (!isFinite(n) || n < 0) return "";
    var units = ["B", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return (i === 0 ? String(n) : n.toFixed(n >= 100 ? 0 : 1)) + " " + units[i];
  }

  function absoluteUrl(url) {
    var a = document.createElement("a");
    a.href = url;
    return a.href;
  }

  function errorMessage(err, msg) {
    var response = err && err.originalResponse;
    if (response) {
      try {
        var body = JSON.parse(response.getBody() || "{}");
        if (body && body.error && body.error.message) return body.error.message;
      } catch (e) { /* not JSON */ }
      return msg.network + " (HTTP " + response.getStatus() + ")";
    }
    return msg.network;
  }

  function init(root) {
    if (root.getAttribute("data-tus-ready")) return;
    root.setAttribute("data-tus-ready", "1");

    var d = root.dataset;
    var msg = {
      choose: d.msgChoose, checking: d.msgChecking, uploading: d.msgUploading, resuming: d.msgResuming,
      paused: d.msgPaused, done: d.msgDone, adding: d.msgAdding, error: d.msgError, network: d.msgNetwork,
      offline: d.msgOffline, tooLarge: d.msgTooLarge, unsupported: d.msgUnsupported, pending: d.msgPending,
      discard: d.msgDiscard, cancelled: d.msgCancelled
    };
    var endpoint = absoluteUrl(d.endpoint);
    var chunkSize = parseInt(d.chunkSize, 10) || 8 * 1024 * 1024;
    var fileInput = root.querySelector("[data-tus-file]");
    var progress = root.querySelector("[data-tus-progress]");
    var bar = progress && progress.querySelector(".progress-bar");
    var statusEl = root.querySelector("[data-tus-status]");
    var pauseBtn = root.querySelector("[data-tus-pause]");
    var resumeBtn = root.querySelector("[data-tus-resume]");
    var cancelBtn = root.querySelector("[data-tus-cancel]");
    var submitBtn = root.querySelector("[data-tus-submit]");
    var pendingList = root.querySelector("[data-tus-pending]");
    var form = root.closest("form");
    var idInput = root.querySelector("[data-tus-id]");
    if (form && idInput && idInput.form !== form) idInput = null;
    if (!idInput && form) {
      idInput = form.querySelector('input[name="upload_id"]');
    }

    var upload = null;
    var file = null;
    var state = "idle"; // idle | checking | uploading | paused | error | done
    var lastPercent = 0;
    var resumed = false;
    var listed = false;
    var maxSize = null;

    function csrfToken() {
      var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
      return d.csrf || (match ? decodeURIComponent(match[1]) : "");
    }

    function setStatus(text, kind) {
      statusEl.textContent = text;
      statusEl.classList.toggle("is-error", kind === "error");
      statusEl.classList.toggle("is-done", kind === "done");
    }

    function setProgress(sent, total) {
      var percent = total > 0 ? Math.floor((sent / total) * 100) : 100;
      lastPercent = percent;
      progress.hidden = false;
      bar.style.width = percent + "%";
      progress.setAttribute("aria-valuenow", String(percent));
      return percent;
    }

    function formSubmitButtons() {
      if (!form) return [];
      return Array.prototype.filter.call(form.querySelectorAll('button[type="submit"], input[type="submit"]'),
        function (b) { return b !== submitBtn; });
    }

    function setState(next) {
      state = next;
      pauseBtn.hidden = next !== "uploading";
      resumeBtn.hidden = !(next === "paused" || next === "error");
      cancelBtn.hidden = !(next === "uploading" || next === "paused" || next === "error" || next === "checking");
      fileInput.disabled = next === "uploading" || next === "checking";
      if (submitBtn) {
        submitBtn.hidden = next !== "done";
        submitBtn.disabled = next !== "done";
      }
      var busy = next === "uploading" || next === "checking" || next === "paused";
      formSubmitButtons().forEach(function (b) { b.disabled = busy; });
    }

    function progressText(sent, total) {
      var text = fill(msg.uploading, {
        name: file ? file.name : "", percent: setProgress(sent, total) + "%",
        done: formatBytes(sent), total: formatBytes(total)
      });
      return resumed ? fill(msg.resuming, { name: file ? file.name : "" }) + " " + text : text;
    }

    function fetchMaxSize() {
      if (maxSize !== null || !window.fetch) return Promise.resolve(maxSize);
      return fetch(endpoint, { method: "OPTIONS", credentials: "same-origin" }).then(function (r) {
        var value = parseInt(r.headers.get("Tus-Max-Size"), 10);
        maxSize = isFinite(value) ? value : 0;
        return maxSize;
      }).catch(function () { maxSize = 0; return 0; });
    }

    function begin(chosen) {
      if (upload) { upload.abort(false); upload = null; }
      file = chosen;
      listed = false;
      if (idInput) idInput.value = "";
      setState("checking");
      setStatus(fill(msg.checking, { name: file.name }));
      fetchMaxSize().then(function (limit) {
        if (limit && file.size > limit) {
          setState("idle");
          setStatus(fill(msg.tooLarge, { max: formatBytes(limit) }), "error");
          return;
        }
        upload = new window.tus.Upload(file, {
          endpoint: endpoint,
          chunkSize: chunkSize,
          retryDelays: RETRY_DELAYS,
          metadata: { filename: file.name, filetype: file.type || "application/octet-stream" },
          headers: { "X-CSRFToken": csrfToken() },
          removeFingerprintOnSuccess: true,
          onProgress: function (sent, total) {
            if (state !== "uploading") return;
            if (!listed) { listed = true; refreshPending(); }
            setStatus(progressText(sent, total));
          },
          onSuccess: function () { finished(); },
          onError: function (err) {
            setState("error");
            if (!err.originalResponse && navigator.onLine === false) setStatus(msg.offline, "error");
            else setStatus(fill(msg.error, { error: errorMessage(err, msg) }), "error");
            refreshPending();
          }
        });
        return upload.findPreviousUploads().then(function (previous) {
          resumed = previous.length > 0;
          if (resumed) upload.resumeFromPreviousUpload(previous[0]);
          setState("uploading");
          setStatus(resumed ? fill(msg.resuming, { name: file.name }) : progressText(0, file.size));
          upload.start();
        });
      });
    }

    function finished() {
      var id = upload.url.replace(/\/+$/, "").split("/").pop();
      setProgress(1, 1);
      if (idInput) idInput.value = id;
      root.dispatchEvent(new CustomEvent("tus:uploaded", { bubbles: true, detail: { id: id, url: upload.url, name: file.name } }));
      setState("done");
      refreshPending();
      if (d.autoSubmit && form) {
        setStatus(fill(msg.adding, { name: file.name }), "done");
        if (form.requestSubmit) form.requestSubmit(submitBtn || undefined); else form.submit();
      } else {
        setStatus(fill(msg.done, { name: file.name }), "done");
      }
    }

    fileInput.addEventListener("change", function () {
      if (fileInput.files && fileInput.files[0]) begin(fileInput.files[0]);
    });

    pauseBtn.addEventListener("click", function () {
      if (!upload || state !== "uploading") return;
      upload.abort(false).then(function () {
        setState("paused");
        setStatus(fill(msg.paused, { percent: lastPercent + "%" }));
        refreshPending();
      });
    });

    resumeBtn.addEventListener("click", function () {
      if (!upload) return;
      setState("uploading");
      setStatus(fill(msg.uploading, { name: file.name, percent: lastPercent + "%", done: "…", total: formatBytes(file.size) }));
      upload.start();
    });

    cancelBtn.addEventListener("click", function () {
      var current = upload;
      upload = null;
      setState("idle");
      progress.hidden = true;
      fileInput.value = "";
      if (idInput) idInput.value = "";
      setStatus(msg.cancelled);
      if (current) {
        current.abort(true).catch(function () { /* already gone */ }).then(refreshPending);
      }
    });

    window.addEventListener("offline", function () {
      if (state === "uploading") setStatus(msg.offline);
    });
    window.addEventListener("online", function () {
      if (state === "error" && upload) {
        setState("uploading");
        upload.start();
      }
    });

    if (submitBtn) {
      submitBtn.addEventListener("click", function (event) {
        if (!idInput || !idInput.value) event.preventDefault();
      });
    }

    // Unfinished uploads remembered by this browser for this endpoint (e.g. before a reload).
    function storedUploads() {
      var found = [];
      try {
        for (var i = 0; i < window.localStorage.length; i += 1) {
          var key = window.localStorage.key(i);
          if (!key || key.indexOf("tus::") !== 0) continue;
          var entry = JSON.parse(window.localStorage.getItem(key) || "null");
          if (entry && entry.uploadUrl && entry.uploadUrl.indexOf(endpoint) === 0) {
            found.push({ key: key, entry: entry });
          }
        }
      } catch (e) { /* storage unavailable */ }
      return found;
    }

    function discard(item) {
      try { window.localStorage.removeItem(item.key); } catch (e) { /* ignore */ }
      if (window.fetch) {
        fetch(item.entry.uploadUrl, {
          method: "DELETE", credentials: "same-origin",
          headers: { "Tus-Resumable": "1.0.0", "X-CSRFToken": csrfToken() }
        }).catch(function () { /* the cleanup task removes it later */ });
      }
      refreshPending();
    }

    function refreshPending() {
      if (!pendingList) return;
      var current = upload && upload.url;
      var items = storedUploads().filter(function (item) {
        return !(state !== "idle" && state !== "done" && current && item.entry.uploadUrl === current);
      });
      pendingList.innerHTML = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        var text = document.createElement("span");
        var meta = item.entry.metadata || {};
        text.textContent = fill(msg.pending, { name: meta.filename || "?", size: formatBytes(item.entry.size) });
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "btn btn-sm btn-secondary";
        btn.textContent = msg.discard;
        btn.addEventListener("click", function () { discard(item); });
        li.appendChild(text);
        li.appendChild(btn);
        pendingList.appendChild(li);
      });
      pendingList.hidden = items.length === 0;
    }

    if (!window.tus || !window.tus.isSupported) {
      setStatus(msg.unsupported, "error");
      fileInput.disabled = true;
      return;
    }
    setState("idle");
    refreshPending();
  }

  function initAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-tus-upload]"), init);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
  document.addEventListener("htmx:load", initAll);
})();
