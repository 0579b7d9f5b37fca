// Starts GOV.UK Frontend's components (character count, error summary focus, buttons).
import { initAll } from "/static/build/govuk/govuk-frontend.min.js";
initAll();
