// The sandbox page: creates a VA at any bank of any configured provider (read from GetCapabilities),
// asks that provider's simulator to pay it, shows the payment as it arrives on StreamPaymentEvents,
// and lists the key's recent VAs (any of them can be opened again) — all through Connect-Web
// (fetch) against the gateway. Bundled by
// esbuild when the gateway first serves /app.js (src/operability/web-console.ts).
import { type Client, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { describeError, errorText, rupiah } from "../src/cli/describe.js";
import {
  type AmountRule,
  AmountType,
  EventType,
  type PaymentEvent,
  PaymentOutcome,
  VaService,
  VaUsage,
  type VirtualAccount,
  VirtualAccountStatus,
} from "../src/gen/va/v1/va_pb.js";

const $ = <T extends HTMLElement>(id: string) => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} missing`);
  return element as T;
};

const gatewayUrl = $<HTMLInputElement>("gateway-url");
const apiKey = $<HTMLInputElement>("api-key");
const createForm = $<HTMLFormElement>("create-form");
const createButton = $<HTMLButtonElement>("create");
const bankSelect = $<HTMLSelectElement>("bank");
const simulateButton = $<HTMLButtonElement>("simulate");
const closedNote = $("va-closed");
const copyState = $("copy-state");
const streamState = $("stream-state");
const eventsList = $<HTMLOListElement>("events");
const recentList = $<HTMLOListElement>("recent");
const errorBox = $("error");

gatewayUrl.value = new URLSearchParams(location.search).get("gateway") ?? location.origin;

let current: { id: string; stream: AbortController } | undefined;

/** A client for the URL and key as they are in the form right now. */
function client(): Client<typeof VaService> {
  const auth: Interceptor = (next) => (request) => {
    request.header.set("authorization", `Bearer ${apiKey.value.trim()}`);
    return next(request);
  };
  return createClient(VaService, createConnectTransport({ baseUrl: gatewayUrl.value.trim(), interceptors: [auth] }));
}

function showError(error: unknown): void {
  errorBox.textContent = errorText(describeError(error));
  errorBox.hidden = false;
}

function clearError(): void {
  errorBox.hidden = true;
  errorBox.textContent = "";
}

function amountText(rule: AmountRule | undefined): string {
  switch (rule?.rule.case) {
    case "fixed":
      return rupiah(rule.rule.value.amount);
    case "range":
      return `${rupiah(rule.rule.value.min)} – ${rupiah(rule.rule.value.max)}`;
    default:
      return "any amount";
  }
}

/** States in which a VA takes no payment that would pay it, so the page offers none. */
const CLOSED: Partial<Record<VirtualAccountStatus, string>> = {
  [VirtualAccountStatus.COMPLETED]: "Paid: this single-use VA is complete.",
  [VirtualAccountStatus.EXPIRED]: "Expired: money arriving now would be recorded as LATE.",
  [VirtualAccountStatus.CANCELLED]: "Cancelled: money arriving now would be recorded as LATE.",
};

function showVirtualAccount(va: VirtualAccount): void {
  $("va-number").textContent = va.vaNumber;
  $("va-bank").textContent = `${va.bankCode} (${va.provider})`;
  $("va-amount").textContent = amountText(va.amount);
  $("va-status").textContent = VirtualAccountStatus[va.status];
  $("va-paid").textContent = rupiah(va.paidAmount);
  $("va-id").textContent = va.id;
  const closed = CLOSED[va.status];
  simulateButton.hidden = closed !== undefined;
  closedNote.hidden = closed === undefined;
  closedNote.textContent = closed ?? "";
  $("va").hidden = false;
}

function markCurrentInRecent(): void {
  for (const item of recentList.children) {
    if ((item as HTMLElement).dataset.id === current?.id) (item as HTMLElement).dataset.current = "";
    else delete (item as HTMLElement).dataset.current;
  }
}

/** Stops following the VA shown and hides it, with its events: nothing stale stays on the page. */
function closeVirtualAccount(): void {
  current?.stream.abort();
  current = undefined;
  eventsList.replaceChildren();
  $("va").hidden = true;
  copyState.textContent = "";
  setStreamState("idle", "");
  markCurrentInRecent();
}

/** Shows `va` in place of the VA shown before, and follows its events. */
function openVirtualAccount(va: VirtualAccount): void {
  closeVirtualAccount();
  showVirtualAccount(va);
  current = { id: va.id, stream: new AbortController() };
  markCurrentInRecent();
  simulateButton.disabled = false;
  void follow(current.id, current.stream);
}

function showEvent(event: PaymentEvent): void {
  const item = document.createElement("li");
  const type = EventType[event.type];
  item.dataset.type = type;
  item.dataset.cursor = event.cursor;
  const time = event.occurredAt ? new Date(Number(event.occurredAt.seconds) * 1000).toLocaleTimeString() : "";
  let text = `${time} ${type}`;
  const payment = event.payment;
  if (payment) {
    text += ` · ${rupiah(payment.amount)} · ${PaymentOutcome[payment.outcome]}`;
    if (payment.fee !== undefined) text += ` · fee ${rupiah(payment.fee)}`;
    if (payment.netAmount !== undefined) text += ` · net ${rupiah(payment.netAmount)}`;
  }
  item.textContent = text;
  eventsList.append(item);
  if (event.virtualAccount) showVirtualAccount(event.virtualAccount);
}

const RECENT_COUNT = 10;

/** The newest VAs of the key in the form, each a button that opens it. */
async function showRecent(): Promise<void> {
  try {
    const { virtualAccounts } = await client().listVirtualAccounts({ pageSize: RECENT_COUNT });
    recentList.replaceChildren(...virtualAccounts.map(recentItem));
    $("recent-empty").hidden = virtualAccounts.length > 0;
  } catch (error) {
    recentList.replaceChildren();
    $("recent-empty").hidden = true;
    showError(error);
  }
}

/**
 * Fills the bank choice with every bank of every provider the gateway has (in sandbox: each
 * provider's simulator) that can issue the single-use fixed-amount VA this page creates.
 */
async function showBanks(): Promise<void> {
  const chosen = bankSelect.value;
  try {
    const { providers } = await client().getCapabilities({});
    const groups = providers.map((provider) => {
      const group = document.createElement("optgroup");
      group.label = provider.provider;
      for (const bank of provider.banks) {
        if (!bank.combinations.some((c) => c.usage === VaUsage.SINGLE && c.amountType === AmountType.FIXED)) continue;
        group.append(new Option(bank.bankCode, `${provider.provider}/${bank.bankCode}`));
      }
      return group;
    });
    bankSelect.replaceChildren(...groups.filter((group) => group.children.length > 0));
    if ([...bankSelect.options].some((option) => option.value === chosen)) bankSelect.value = chosen;
  } catch (error) {
    // The choice loaded before stays: a create with it will say what is wrong, too.
    showError(error);
  }
}

function recentItem(va: VirtualAccount): HTMLLIElement {
  const item = document.createElement("li");
  item.dataset.id = va.id;
  if (va.id === current?.id) item.dataset.current = "";
  const open = document.createElement("button");
  open.type = "button";
  const created = va.createdAt ? new Date(Number(va.createdAt.seconds) * 1000).toLocaleString() : "";
  open.textContent = `${va.vaNumber} · ${va.bankCode} · ${amountText(va.amount)} · ${VirtualAccountStatus[va.status]} · ${created}`;
  open.addEventListener("click", () => {
    clearError();
    openVirtualAccount(va);
  });
  item.append(open);
  return item;
}

function setStreamState(state: "idle" | "connecting" | "live" | "ended" | "failed", text: string): void {
  streamState.dataset.state = state;
  streamState.textContent = text;
}

/** Follows the VA's events until the page moves on to another VA. */
async function follow(id: string, stream: AbortController): Promise<void> {
  setStreamState("connecting", "connecting to the event stream…");
  try {
    for await (const message of client().streamPaymentEvents(
      { filter: { case: "virtualAccountId", value: id } },
      { signal: stream.signal },
    )) {
      if (stream.signal.aborted) return;
      setStreamState("live", "stream live");
      if (message.kind.case === "event") {
        showEvent(message.kind.value);
        void showRecent();
      }
    }
    setStreamState("ended", "stream ended");
  } catch (error) {
    if (stream.signal.aborted) return;
    setStreamState("failed", "stream failed");
    simulateButton.disabled = true;
    showError(error);
  }
}

createForm.addEventListener("submit", async (submit) => {
  submit.preventDefault();
  clearError();
  createButton.disabled = true;
  try {
    const amount = BigInt($<HTMLInputElement>("amount").value || "0");
    const [provider = "", bankCode = ""] = bankSelect.value.split("/");
    const { virtualAccount } = await client().createVirtualAccount({
      idempotencyKey: `web-${crypto.randomUUID()}`,
      merchantReference: `web-${crypto.randomUUID().slice(0, 8)}`,
      provider,
      bankCode,
      usage: VaUsage.SINGLE,
      amount: { rule: { case: "fixed", value: { amount } } },
      customer: { name: $<HTMLInputElement>("name").value },
    });
    if (!virtualAccount) throw new ConnectError("the gateway answered without a virtual account");
    openVirtualAccount(virtualAccount);
  } catch (error) {
    // The VA shown before is not what this error is about: leave only the error on the page.
    closeVirtualAccount();
    showError(error);
  } finally {
    createButton.disabled = false;
  }
});

simulateButton.addEventListener("click", async () => {
  if (!current) return;
  clearError();
  simulateButton.disabled = true;
  try {
    await client().simulatePayment({ virtualAccountId: current.id });
  } catch (error) {
    showError(error);
  } finally {
    simulateButton.disabled = false;
  }
});

$("copy-number").addEventListener("click", async () => {
  const number = $("va-number").textContent ?? "";
  try {
    await navigator.clipboard.writeText(number);
    copyState.textContent = "copied";
  } catch {
    // No clipboard access (an insecure origin, or refused): select it for the user to copy.
    getSelection()?.selectAllChildren($("va-number"));
    copyState.textContent = "selected: press Ctrl-C (⌘-C) to copy";
  }
});

$("refresh-recent").addEventListener("click", () => {
  clearError();
  void showRecent();
});

// Another gateway or key is another tenant: nothing shown for the previous one stays.
for (const input of [gatewayUrl, apiKey]) {
  input.addEventListener("change", () => {
    clearError();
    closeVirtualAccount();
    void showBanks();
    void showRecent();
  });
}

void showBanks();
void showRecent();
