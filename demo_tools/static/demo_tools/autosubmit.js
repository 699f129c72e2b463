// Send a form marked data-autosubmit at once (the visible button stays for no-JS browsers).
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit]");
  if (form) { form.submit(); }
})();
