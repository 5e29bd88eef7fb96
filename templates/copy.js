// The copy buttons beside secrets Tessera shows once. Each `<button data-copy="ID" hidden>`
// is shown and, when pressed, copies the text of the element with that id. Where the
// clipboard is out of reach, it selects the text for the user to copy. Without this script
// the buttons stay hidden and the secret can be selected and copied by hand.
"use strict";

for (const button of document.querySelectorAll("button[data-copy]")) {
  const source = document.getElementById(button.dataset.copy);
  if (source === null) {
    continue;
  }
  button.hidden = false;
  button.addEventListener("click", () => {
    const selectByHand = () => {
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      button.textContent = "Selected: press Ctrl+C";
    };
    if (navigator.clipboard === undefined) {
      selectByHand();
      return;
    }
    navigator.clipboard.writeText(source.textContent).then(
      () => {
        button.textContent = "Copied";
      },
      selectByHand,
    );
  });
}
