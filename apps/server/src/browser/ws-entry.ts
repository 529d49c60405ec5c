/** The browser bundle for the ws browser test: the signaller and the ws client half, unmodified. */
import { createSignaller } from '@switchyard/signaller';
import { webSocketConnector } from '@switchyard/transport-ws/client';

Object.assign(globalThis, { switchyard: { createSignaller, webSocketConnector } });
