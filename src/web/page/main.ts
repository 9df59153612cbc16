// Entry of the page: trade a login token from the URL for a session cookie, then render.
import { h, render } from "preact";
import { api } from "./api.ts";
import { App } from "./app.ts";
import { takeLoginToken } from "./route.ts";

async function start(): Promise<void> {
  const token = takeLoginToken();
  if (token) await api.login(token).catch(() => undefined); // a bad token shows the login notice below
  render(h(App, null), document.getElementById("app")!);
}

void start();
