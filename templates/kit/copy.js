// Copy buttons for the code blocks (the page works without them).
(function () {
  "use strict";
  if (!navigator.clipboard) { return; }
  document.querySelectorAll("pre[data-copy]").forEach(function (pre) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(pre.textContent).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 1500);
      });
    });
    pre.parentNode.insertBefore(button, pre);
  });
})();
