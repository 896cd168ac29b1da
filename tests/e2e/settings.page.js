// Entry of the component-test page: mounts the real settings tab with the scripted plugin.
import { mount } from "/www/plugin/settings/tab.js";
import { createFakePlugin, createFakeHost } from "/tests/e2e/settings.fake-plugin.js";

const scenario = window.__scenario;
const plugin = createFakePlugin(scenario);
const host = createFakeHost(scenario);
window.__unmount = mount(document.getElementById("app"), { plugin, host, locale: scenario.locale, devConfigUrl: scenario.devConfig ? "/dev-config.json" : null });
