// Permission requests and questions, as the shared contract with the requests API describes
// them (convex/requests.ts). The page reads and answers them through these references.
import { makeFunctionReference } from "convex/server";

export type RequestKind = "permission" | "question" | "budget";
export type RequestStatus = "pending" | "answered" | "rejected" | "expired";
export type RequestReply = "once" | "always" | "reject";
export type QuestionInfo = {
  question: string;
  header: string;
  options: { label: string; description: string }[];
  multiple?: boolean;
};

/** One request as a person sees it. */
export type RequestView = {
  requestId: string;
  messageId: string;
  kind: RequestKind;
  status: RequestStatus;
  /** One short line a person reads, e.g. "read /p/.env". */
  title: string;
  permission?: string;
  patterns?: string[];
  detail?: string;
  questions?: QuestionInfo[];
  reply?: RequestReply;
  message?: string;
  answers?: string[][];
  /** Why it ended without a person (timeout, worker stopped, …). */
  reason?: string;
  createdAt: number;
  answeredAt?: number;
};

export const requestsApi = {
  list: makeFunctionReference<"query", { messageId: string; worker?: string }, RequestView[]>("requests:list"),
  pending: makeFunctionReference<"query", { worker?: string }, (RequestView & { worker: string; sessionId: string })[]>("requests:pending"),
  reply: makeFunctionReference<
    "mutation",
    { requestId: string; reply: RequestReply; message?: string; answers?: string[][]; worker?: string },
    { status: RequestStatus }
  >("requests:reply"),
};
