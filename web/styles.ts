import { css } from 'lit';

/** Shared look of forms, tables and messages; each page adds its own layout. */
export const sharedStyles = css`
  :host {
    display: block;
  }
  h1 {
    margin: 0 0 1rem;
    font-size: 1.5rem;
  }
  form {
    display: grid;
    gap: 0.75rem;
    max-width: 28rem;
  }
  label {
    display: grid;
    gap: 0.25rem;
    font-weight: 500;
  }
  input,
  select,
  textarea {
    font: inherit;
    padding: 0.45rem 0.6rem;
    border: 1px solid #c5cbd3;
    border-radius: 6px;
    /* Padding and border inside the width: a full-width field stays inside a phone's window. */
    box-sizing: border-box;
    max-width: 100%;
  }
  textarea {
    font-family: ui-monospace, monospace;
    font-size: 0.85rem;
    min-height: 7rem;
  }
  button {
    font: inherit;
    padding: 0.45rem 0.9rem;
    border-radius: 6px;
    border: 1px solid #2456c7;
    background: #2f6fed;
    color: white;
    cursor: pointer;
  }
  button.secondary {
    background: white;
    color: #2456c7;
  }
  button:disabled {
    opacity: 0.6;
    cursor: default;
  }
  .error {
    color: #b42318;
  }
  .field-error {
    color: #b42318;
    font-weight: 400;
    font-size: 0.85rem;
  }
  /* A wide table scrolls in its own box; the page never scrolls sideways. Tables and code blocks
     with nothing to focus inside take tabindex="0", so a keyboard can scroll them too. */
  table {
    display: block;
    overflow-x: auto;
    max-width: 100%;
    border-collapse: collapse;
    background: white;
  }
  th,
  td {
    text-align: left;
    padding: 0.4rem 0.6rem;
    border-bottom: 1px solid #e3e6ea;
    font-size: 0.9rem;
  }
  code,
  pre {
    font-family: ui-monospace, monospace;
    font-size: 0.85rem;
  }
  pre {
    background: #1d232b;
    color: #e6edf3;
    padding: 1rem;
    border-radius: 8px;
    overflow-x: auto;
  }
  .filters {
    display: flex;
    flex-wrap: wrap;
    gap: 0.75rem;
    align-items: end;
    margin-bottom: 1rem;
  }
  .filters label {
    font-size: 0.85rem;
  }
  .note {
    color: #475467;
    font-size: 0.85rem;
  }
  .notice {
    color: #067647;
  }
  td.number,
  th.number {
    text-align: right;
    font-variant-numeric: tabular-nums;
  }
  td.actions button {
    padding: 0.2rem 0.5rem;
    font-size: 0.8rem;
  }
  .status-COMPLETE {
    color: #067647;
  }
  .status-FAILED,
  .status-CANCELLED {
    color: #b42318;
  }
`;
