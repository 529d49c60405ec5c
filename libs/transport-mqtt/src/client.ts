/** Placeholder: replaced by the transport implementation. */
export {};
