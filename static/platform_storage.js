// Platform storage: the LTI client-side postMessage API (1EdTech "Client Side postMessages"
// and "Platform Storage"), answered by the portal page that frames a tool
// (portal/templates/portal/assignment_frame.html, lti_storage_target "_parent").
//
// Only the tool's registered origins are answered (the frame's data-allowed-origins, from
// the server). Each origin's data is kept apart, in this page's memory only: nothing is
// written to the browser's storage, so it is gone when the page is left or the child signs
// out (shared tablets). Keys, values and the number of keys per origin are bounded.
"use strict";

(function () {
  var LIMITS = { keyLength: 256, valueLength: 4096, keysPerOrigin: 64 };
  var SUPPORTED = ["lti.capabilities", "lti.get_data", "lti.put_data"];

  // One store per origin: origin -> Map(key -> value).
  function createStorage(allowedOrigins) {
    var allowed = new Set(allowedOrigins);
    var stores = new Map();

    function storeOf(origin) {
      if (!stores.has(origin)) stores.set(origin, new Map());
      return stores.get(origin);
    }

    function error(subject, messageId, code, message) {
      var reply = { subject: subject + ".response", error: { code: code, message: message } };
      if (messageId !== undefined) reply.message_id = messageId;
      return reply;
    }

    // Answer one message: the reply object, or null for what is not ours to answer.
    function answer(origin, data) {
      if (!data || typeof data !== "object" || typeof data.subject !== "string") return null;
      var subject = data.subject.replace(/^org\.imsglobal\./, "");
      if (subject.slice(-9) === ".response" || subject.indexOf("lti.") !== 0) return null;
      var messageId = data.message_id;
      if (!allowed.has(origin)) {
        return error(data.subject, messageId, "unauthorized", "origin not allowed");
      }
      if (SUPPORTED.indexOf(subject) < 0) {
        return error(data.subject, messageId, "unsupported_subject", "unsupported subject");
      }
      if (subject === "lti.capabilities") {
        return {
          subject: data.subject + ".response",
          message_id: messageId,
          supported_messages: [{ subject: "lti.get_data" }, { subject: "lti.put_data" }],
        };
      }
      var key = data.key;
      if (typeof key !== "string" || key.length === 0 || key.length > LIMITS.keyLength) {
        return error(data.subject, messageId, "bad_request", "key must be 1-256 characters");
      }
      var store = storeOf(origin);
      if (subject === "lti.put_data") {
        var value = data.value;
        if (typeof value !== "string" || value.length > LIMITS.valueLength) {
          return error(data.subject, messageId, "bad_request", "value must be a string of at most 4096 characters");
        }
        if (!store.has(key) && store.size >= LIMITS.keysPerOrigin) {
          return error(data.subject, messageId, "bad_request", "too many keys");
        }
        store.set(key, value);
        return { subject: data.subject + ".response", message_id: messageId, key: key, value: value };
      }
      if (!store.has(key)) {
        return error(data.subject, messageId, "key_not_found", "no value for this key");
      }
      return { subject: data.subject + ".response", message_id: messageId, key: key, value: store.get(key) };
    }

    return { answer: answer };
  }

  function originsOf(frame) {
    return (frame.getAttribute("data-allowed-origins") || "").split(/\s+/).filter(Boolean);
  }

  function start() {
    var frame = document.querySelector("iframe[data-allowed-origins]");
    if (!frame) return;
    var storage = createStorage(originsOf(frame));
    window.addEventListener("message", function (event) {
      // Messages from the tool's frame (or frames inside it); "null" origins are never answered.
      if (!event.source || event.origin === "null") return;
      var reply = storage.answer(event.origin, event.data);
      if (reply) event.source.postMessage(reply, event.origin);
    });
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = { createStorage: createStorage, LIMITS: LIMITS };
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
