// Progressive enhancement for the web chat: the page works without this file.
// With it: forms post without a reload, focus returns to the message box, new
// messages are announced to screen readers, and "Read aloud" appears where the
// browser has a voice for the page's language.
(function () {
  "use strict";

  function lastId(root) {
    var list = root.querySelector(".transcript");
    return list ? Number(list.getAttribute("data-last") || "0") : 0;
  }

  function announce(texts) {
    var region = document.getElementById("announcer");
    if (!region || !texts.length) { return; }
    region.textContent = "";
    texts.forEach(function (text) {
      var p = document.createElement("p");
      p.textContent = text;
      region.appendChild(p);
    });
  }

  function voiceFor(lang) {
    if (!("speechSynthesis" in window)) { return null; }
    var voices = window.speechSynthesis.getVoices();
    for (var i = 0; i < voices.length; i += 1) {
      if (voices[i].lang && voices[i].lang.toLowerCase().indexOf(lang.toLowerCase()) === 0) { return voices[i]; }
    }
    return null;
  }

  function enableSpeech() {
    var lang = document.documentElement.lang;
    var voice = voiceFor(lang);
    document.querySelectorAll(".speak").forEach(function (button) {
      if (!voice) { button.hidden = true; return; }
      button.hidden = false;
      button.onclick = function () {
        var body = button.parentElement.querySelector(".body");
        var utterance = new SpeechSynthesisUtterance(body ? body.textContent : "");
        utterance.lang = lang;
        utterance.voice = voice;
        window.speechSynthesis.cancel();
        window.speechSynthesis.speak(utterance);
      };
    });
  }

  async function submit(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") { return; }
    event.preventDefault();
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) { data.append(event.submitter.name, event.submitter.value); }
    var before = lastId(document);
    var hadFocus = document.activeElement && document.activeElement.id;
    var response;
    try {
      response = await fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-Requested-With": "consentbot" }
      });
    } catch (error) {
      form.submit();
      return;
    }
    if (!response.ok) { form.submit(); return; }
    var doc = new DOMParser().parseFromString(await response.text(), "text/html");
    var page = doc.getElementById("page");
    if (!page) { form.submit(); return; }
    // Keep open the sections the person had opened.
    var opened = [];
    document.querySelectorAll("#page details").forEach(function (item, index) {
      if (item.open) { opened.push(index); }
    });
    var fresh_details = page.querySelectorAll("details");
    opened.forEach(function (index) { if (fresh_details[index]) { fresh_details[index].open = true; } });
    document.documentElement.lang = doc.documentElement.lang;
    document.documentElement.dir = doc.documentElement.dir;
    document.title = doc.title;
    document.getElementById("page").replaceWith(page);
    var fresh = [];
    page.querySelectorAll(".message.out").forEach(function (item) {
      if (Number(item.getAttribute("data-id")) > before) {
        var body = item.querySelector(".body");
        if (body) { fresh.push(body.textContent); }
      }
    });
    var notice = page.querySelector(".notice");
    if (notice) { fresh.unshift(notice.textContent); }
    announce(fresh);
    enableSpeech();
    // After asking for a code, the next thing to type is the code; a wrong code is typed again.
    var sentCode = /\/verify$/.test(form.action) && document.getElementById("code");
    var retryCode = /\/verify\/code$/.test(form.action) && document.getElementById("code");
    var target = sentCode || retryCode
      || (hadFocus === "phone" && document.getElementById("phone"))
      || document.getElementById("text");
    var latest = document.getElementById("latest");
    if (latest) { latest.scrollIntoView({ block: "nearest" }); }
    if (target) { target.focus(); }
  }

  document.addEventListener("submit", submit);
  document.documentElement.classList.add("js");
  enableSpeech();
  if ("speechSynthesis" in window) { window.speechSynthesis.onvoiceschanged = enableSpeech; }
})();
