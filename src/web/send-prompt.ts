// Sending a prompt from the page, with the model the person picked. chat:send takes `model`
// once the backend knows models per prompt; this is the one place that passes it, so a backend
// without it refuses the field and the person gets one clear message instead of a silent default.
import { makeFunctionReference } from "convex/server";
import type { AdminClient } from "../backend/admin-client.ts";
import { errorMessage } from "../util/errors.ts";
import { HttpError } from "./http.ts";

const sendWithModel = makeFunctionReference<
  "mutation",
  { sessionId: string; text: string; worker?: string; model: string },
  { userMessageId: string; messageId: string }
>("chat:send");

export async function sendPrompt(admin: AdminClient, o: { sessionId: string; text: string; worker: string; model?: string }) {
  if (!o.model) return await admin.send(o.sessionId, o.text, o.worker);
  try {
    return await admin.run(sendWithModel, { sessionId: o.sessionId, text: o.text, worker: o.worker, model: o.model });
  } catch (e) {
    if (/extra field|model/i.test(errorMessage(e)) && /validat/i.test(errorMessage(e))) {
      throw new HttpError(400, "this backend does not take a model per prompt yet: pick “worker's default” (or update the backend's functions)");
    }
    throw e;
  }
}
