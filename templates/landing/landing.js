// Reads what Microsoft Entra's admin consent sent back in the query string and says what
// happened. Every value from the address bar is written with textContent, never as HTML.
// Anyone can craft this page's address: what it says comes from fixed tables, and the
// free text of the address (error_description) is shown quoted, as untrusted text.
(function () {
  "use strict";
  var q = new URLSearchParams(window.location.search);
  function all(name) { return q.getAll(name).map(function (v) { return v.trim(); }); }
  function get(name) { return all(name).filter(function (v) { return v !== ""; })[0] || ""; }
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
  // Any `error` parameter means failure, even an empty one next to admin_consent=True
  // (Entra sends admin_consent=True on errors too): `error` is tested first.
  var failed = q.has("error");
  var granted = false;
  function isTrue(v) { return v.toLowerCase() === "true"; }
  var onboarding = state.indexOf("xtenant:") === 0 ? state.slice("xtenant:".length) : state;
  var code = (description.match(/AADSTS\d+/) || [""])[0];
  // The OAuth 2.0 error codes (RFC 6749 4.1.2.1) and the ones Entra's admin consent adds.
  var errors = {
    access_denied: "Consent was declined or cancelled.",
    permission_denied: "Consent was declined or cancelled.",
    consent_required: "Admin consent is required, and it was not given.",
    interaction_required: "Microsoft Entra needs you to sign in again or to complete a step it asked for.",
    login_required: "Microsoft Entra needs you to sign in again.",
    invalid_request: "Microsoft Entra refused the consent request as malformed.",
    invalid_client: "Microsoft Entra does not accept the application in this request.",
    invalid_resource: "The application or the permission asked for does not exist in your tenant.",
    invalid_scope: "A permission in the request is not valid.",
    unauthorized_client: "The application may not ask for consent in this way.",
    unsupported_response_type: "Microsoft Entra refused the form of the request.",
    server_error: "Microsoft Entra had an internal error.",
    temporarily_unavailable: "Microsoft Entra was temporarily unavailable."
  };
  var hints = {
    AADSTS65004: "the consent was declined.",
    AADSTS90094: "your account cannot grant admin consent for these permissions: ask a Global Administrator or a Privileged Role Administrator of your tenant to open the consent link.",
    AADSTS90093: "your account cannot grant admin consent for these permissions: ask a Global Administrator or a Privileged Role Administrator of your tenant to open the consent link.",
    AADSTS50020: "the account you signed in with does not belong to the tenant in the consent link: sign in with an administrator account of that tenant.",
    AADSTS700016: "the application was not found: it may not be available in your cloud, or it is not a multi-tenant app. Contact the publisher.",
    AADSTS7000112: "the application is disabled. Contact the publisher."
  };
  var status = document.getElementById("status");
  var result = document.getElementById("result");

  if (tenant) { show("tenant", tenant); reveal("row-tenant"); }
  if (onboarding) { show("state", onboarding); reveal("row-state"); }

  if (failed) {
    var known = Object.prototype.hasOwnProperty.call(errors, error);
    var cancelled = error === "access_denied" || error === "permission_denied";
    show("error", known ? error : "not a known error code");
    reveal("row-error");
    if (error) {
      if (!known) { show("error-raw", "\u201c" + error + "\u201d"); reveal("row-error-raw"); }
    }
    if (code) { show("aadsts", code); reveal("row-aadsts"); }
    if (description) {
      show("description", "\u201c" + description + "\u201d");
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
      show("summary", (known ? errors[error] : "Microsoft Entra (or whoever wrote this address) reported an error this page does not know.") +
        (hints[code] ? " The text below mentions " + code + "; if it came from Microsoft Entra, it means " + hints[code] : ""));
      show("next", "Send the error code and the text below to whoever sent you the onboarding kit" +
        (onboarding ? " (onboarding \u201c" + onboarding + "\u201d)" : "") +
        ". Nothing was granted, so you can safely try again once the cause is fixed.");
    }
  } else if (consent.toLowerCase() === "true" && all("admin_consent").every(isTrue)) {
    granted = true;
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
  checkTenant();

  // Is `tenant` the tenant the onboarding named in `state` was prepared for? The page holds
  // SHA-256 digests of (onboarding, tenant id), not the provider's customer list.
  function checkTenant() {
    if (!tenant || !onboarding) { result.setAttribute("data-tenant", "unchecked"); return; }
    var data = JSON.parse(document.getElementById("tenants").getAttribute("data-digests") || "{}");
    var known = data.customers || {};
    var prefix = String(data.prefix || "");
    if (!(window.crypto && window.crypto.subtle && window.TextEncoder)) {
      result.setAttribute("data-tenant", "unchecked");
      return;
    }
    function sha256(text) {
      return window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(function (buf) {
        return Array.prototype.map.call(new Uint8Array(buf), function (b) {
          return ("0" + b.toString(16)).slice(-2);
        }).join("");
      });
    }
    sha256(prefix + onboarding).then(function (key) {
      var entry = Object.prototype.hasOwnProperty.call(known, key) ? known[key] : null;
      if (!entry) {
        result.setAttribute("data-tenant", "unknown");
        show("tenant-check", "This page does not know the onboarding \u201c" + onboarding + "\u201d, so it cannot tell whether tenant " + tenant + " is the one it was prepared for.");
        reveal("tenant-check");
        return;
      }
      if (entry.kind !== "guid") {
        result.setAttribute("data-tenant", "unknown");
        show("tenant-check", "Microsoft Entra answered for tenant " + tenant + ". This onboarding names its tenant by a domain name, which this page cannot compare with a tenant id: make sure " + tenant + " is your organization's tenant id (Microsoft Entra admin center, Overview).");
        reveal("tenant-check");
        return;
      }
      return sha256(prefix + onboarding + "\n" + tenant.toLowerCase()).then(function (digest) {
        var match = digest === entry.tenant;
        result.setAttribute("data-tenant", match ? "match" : "mismatch");
        var check = show("tenant-check", match
          ? "Tenant " + tenant + " is the tenant this onboarding was prepared for."
          : "Tenant " + tenant + " is NOT the tenant this onboarding (\u201c" + onboarding + "\u201d) was prepared for. " +
            "Sign in with an administrator of the intended tenant and open the consent link again.");
        check.className = match ? "note ok" : "note warn";
        reveal("tenant-check");
        if (!match && granted) {
          status.className = "status warn";
          show("status", "Consent granted in another tenant than this onboarding's.");
          show("next", "Do not assign the roles of your kit in tenant " + tenant + ". Open the consent link from your onboarding kit again (index.html, step 1), signed in as an administrator of the tenant it was prepared for; then remove the app's enterprise application from tenant " + tenant + " (Microsoft Entra admin center, Enterprise applications).");
        }
      });
    }).catch(function () { result.setAttribute("data-tenant", "unchecked"); });
  }
})();
