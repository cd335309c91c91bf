// Reads what Microsoft Entra's admin consent sent back in the query string and says what
// happened. Every value from the address bar is written with textContent, never as HTML.
(function () {
  "use strict";
  var q = new URLSearchParams(window.location.search);
  function get(name) { return (q.get(name) || "").trim(); }
  function show(id, text) {
    var el = document.getElementById(id);
    el.textContent = text;
    return el;
  }
  function reveal(id) { document.getElementById(id).hidden = false; }

  var consent = get("admin_consent");
  var error = get("error");
  var description = get("error_description");
  var tenant = get("tenant");
  var state = get("state");
  var onboarding = state.indexOf("xtenant:") === 0 ? state.slice("xtenant:".length) : state;
  var code = (description.match(/AADSTS\d+/) || [""])[0];
  var hints = {
    AADSTS65004: "The consent was declined.",
    AADSTS90094: "Your account cannot grant admin consent for these permissions: ask a Global Administrator or a Privileged Role Administrator of your tenant to open the consent link.",
    AADSTS90093: "Your account cannot grant admin consent for these permissions: ask a Global Administrator or a Privileged Role Administrator of your tenant to open the consent link.",
    AADSTS50020: "The account you signed in with does not belong to the tenant in the consent link: sign in with an administrator account of that tenant.",
    AADSTS700016: "The application was not found: it may not be available in your cloud, or it is not a multi-tenant app. Contact the publisher.",
    AADSTS7000112: "The application is disabled. Contact the publisher."
  };
  var status = document.getElementById("status");
  var result = document.getElementById("result");

  if (tenant) { show("tenant", tenant); reveal("row-tenant"); }
  if (onboarding) { show("state", onboarding); reveal("row-state"); }

  if (error) {
    // Entra sends admin_consent=True on errors too: the presence of `error` decides.
    var cancelled = error === "access_denied" || error === "permission_denied" ||
      code === "AADSTS65004";
    show("error", error);
    reveal("row-error");
    if (code) { show("aadsts", code); reveal("row-aadsts"); }
    if (description) {
      show("description", description);
      reveal("description-box");
    }
    result.setAttribute("data-outcome", cancelled ? "cancelled" : "error");
    if (cancelled) {
      status.className = "status warn";
      show("status", "Consent was cancelled: nothing was granted.");
      show("summary", "Your tenant is unchanged. No enterprise application was created and no permission was granted.");
      show("next", "When you are ready, open the consent link from your onboarding kit again (index.html, step 1). If something in the request worried you, contact whoever sent you the kit before going on.");
    } else {
      status.className = "status bad";
      show("status", "Consent did not complete.");
      show("summary", hints[code] || "Microsoft Entra returned an error: its code and description are below.");
      show("next", "Send the error code and Entra's text above to whoever sent you the onboarding kit" +
        (onboarding ? " (onboarding \u201c" + onboarding + "\u201d)" : "") +
        ". Nothing was granted, so you can safely try again once the cause is fixed.");
    }
  } else if (consent.toLowerCase() === "true") {
    result.setAttribute("data-outcome", "granted");
    status.className = "status ok";
    show("status", "Consent granted.");
    show("summary", "The app's enterprise application (its service principal) now exists in " +
      (tenant ? "tenant " + tenant : "your tenant") + ", with the Microsoft Graph permissions listed in your kit, if any.");
    show("next", "Next: assign the Azure roles listed in your onboarding kit (index.html, step 2), with the tool of your choice. If the kit lists no Azure roles, you are done. Step 3 of the kit shows how to verify what was granted.");
  } else {
    result.setAttribute("data-outcome", "none");
    show("status", "No consent answer on this page.");
  }
})();
