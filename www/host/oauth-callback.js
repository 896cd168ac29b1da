// The OAuth redirect lands here, in the consent popup. It hands the full URL (code and
// state, or error) to the CRM window that opened it, on this origin only, and closes.
const message = document.getElementById("callback-message");
if (window.opener && !window.opener.closed) {
  window.opener.postMessage({ type: "oauth-callback", url: window.location.href }, window.location.origin);
  window.close();
} else {
  message.textContent = "This sign-in window lost its CRM window. Close it and connect again from the CRM.";
}
